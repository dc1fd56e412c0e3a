import * as z from 'zod';
import { namespaceRoles } from '../../contracts/api/access-limits.js';
import type { BindingsStore, NamespaceLookup, StoredBindings } from '../../ports/bindings-store.js';
import { keys } from './keys.js';
import type { SingleTable } from './single-table.js';

const storedSchema = z.object({
  namespace: z.string(),
  bindings: z.array(
    z.object({
      role: z.enum(namespaceRoles),
      principals: z.array(z.string()),
      groups: z.array(z.string()),
    }),
  ),
  revision: z.number().int(),
  updatedAt: z.string().optional(),
  updatedBy: z.string().optional(),
});

function storedOf(item: unknown): StoredBindings {
  const { updatedAt, updatedBy, ...stored } = storedSchema.parse(item);
  return {
    ...stored,
    ...(updatedAt === undefined ? {} : { updatedAt }),
    ...(updatedBy === undefined ? {} : { updatedBy }),
  };
}

/**
 * Role bindings, one item per namespace (`NSBIND#{namespace}` / `#BINDINGS`) listed under GSI1
 * `NSBINDINGS`, written with optimistic locking.
 */
export class DynamoBindingsStore implements BindingsStore {
  constructor(private readonly table: SingleTable) {}

  async get(namespace: string): Promise<StoredBindings> {
    const item = await this.table.get(keys.namespaceBindings(namespace));
    return item === undefined ? { namespace, bindings: [], revision: 0 } : storedOf(item);
  }

  async put(
    namespace: string,
    bindings: StoredBindings['bindings'],
    by: string,
    at: string,
    expectedRevision: number,
  ): Promise<StoredBindings> {
    const written = await this.table.putWithRevision(
      {
        ...keys.namespaceBindings(namespace),
        // Listed only while it binds someone: the first listed item answers "are there any bindings?".
        ...(bindings.length === 0
          ? {}
          : { GSI1PK: keys.bindingsIndex.pk, GSI1SK: keys.bindingsIndex.sk(namespace) }),
        namespace,
        bindings: bindings.map((binding) => ({
          role: binding.role,
          principals: [...binding.principals],
          groups: [...binding.groups],
        })),
        updatedAt: at,
        updatedBy: by,
      },
      expectedRevision,
    );
    return storedOf(written);
  }

  async anyBindings(): Promise<boolean> {
    const page = await this.table.query({ index: 'GSI1', partition: keys.bindingsIndex.pk, limit: 1 });
    return page.items.length > 0;
  }
}

const namespaceOnly = z.object({ namespace: z.string() });

/** The namespace of a run or promotion, from its item (one GetItem). */
export class DynamoNamespaceLookup implements NamespaceLookup {
  constructor(private readonly table: SingleTable) {}

  async ofRun(runId: string): Promise<string | undefined> {
    return namespaceOnly.safeParse(await this.table.get(keys.run(runId))).data?.namespace;
  }

  async ofPromotion(id: string): Promise<string | undefined> {
    return namespaceOnly.safeParse(await this.table.get(keys.promotion(id))).data?.namespace;
  }
}
