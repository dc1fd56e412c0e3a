import * as z from 'zod';
import type { Deprecation } from '../../contracts/api/deprecations.js';
import type {
  DeprecationStore,
  DeprecationSubject,
  StoredDeprecation,
} from '../../ports/deprecation-store.js';
import { keys } from './keys.js';
import type { Item, SingleTable } from './single-table.js';

const refSchema = z.object({ namespace: z.string(), name: z.string() });

/**
 * A deprecation item. A DataSet's lives in the DataSet's partition (and on GSI1 `DATASETS` beside its
 * declarations), so every read of the DataSet meets it without another request; a package's beside its
 * head. `dataset` / `package` name the subject the way the registry's staged items do.
 */
export const deprecationItemSchema = z.object({
  type: z.literal('deprecation'),
  dataset: refSchema.optional(),
  package: refSchema.optional(),
  reason: z.string(),
  sunset: z.string(),
  deprecatedAt: z.string(),
  deprecatedBy: z.string(),
  announced: z.boolean(),
  revision: z.number().int(),
});

export type DeprecationItem = z.infer<typeof deprecationItemSchema>;

/** The deprecation an item holds, as reads show it; undefined when the item is not a deprecation. */
export function readDeprecation(item: Item): Deprecation | undefined {
  const parsed = deprecationItemSchema.safeParse(item);
  if (!parsed.success) return undefined;
  const { reason, sunset, deprecatedAt, deprecatedBy } = parsed.data;
  return { reason, sunset, deprecatedAt, deprecatedBy };
}

function keyOf(subject: DeprecationSubject) {
  return subject.kind === 'dataset'
    ? keys.dataSetDeprecation(subject.namespace, subject.name)
    : keys.packageDeprecation(subject.namespace, subject.name);
}

/** Deprecations on the single table, written with optimistic locking (docs/data-model.md, Governance). */
export class DynamoDeprecationStore implements DeprecationStore {
  constructor(private readonly table: SingleTable) {}

  async get(subject: DeprecationSubject): Promise<StoredDeprecation | undefined> {
    const item = await this.table.get(keyOf(subject));
    if (item === undefined) return undefined;
    const { reason, sunset, deprecatedAt, deprecatedBy, announced, revision } =
      deprecationItemSchema.parse(item);
    return { reason, sunset, deprecatedAt, deprecatedBy, announced, revision };
  }

  async put(
    subject: DeprecationSubject,
    deprecation: Omit<StoredDeprecation, 'revision'>,
    expectedRevision: number,
  ): Promise<StoredDeprecation> {
    const key = keyOf(subject);
    const ref = { namespace: subject.namespace, name: subject.name };
    const item: Item = {
      ...key,
      type: 'deprecation',
      ...(subject.kind === 'dataset'
        ? {
            dataset: ref,
            GSI1PK: keys.datasetsIndex.pk,
            GSI1SK: keys.datasetsIndex.sk(subject.namespace, subject.name, key.SK),
          }
        : { package: ref }),
      reason: deprecation.reason,
      sunset: deprecation.sunset,
      deprecatedAt: deprecation.deprecatedAt,
      deprecatedBy: deprecation.deprecatedBy,
      announced: deprecation.announced,
    };
    const written = await this.table.putWithRevision(item, expectedRevision);
    return { ...deprecation, revision: z.number().int().parse(written.revision) };
  }
}
