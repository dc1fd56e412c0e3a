import { z } from 'zod';
import { manifestKindSchema, type PackageSummary } from '../../contracts/api/packages.js';
import type { ListPackagesQuery, PackagePage, PackageReader } from '../../ports/package-repository.js';
import { type ItemKey, keys } from './keys.js';
import type { Item, SingleTable } from './single-table.js';

/**
 * The package head: one item per package holding its identity, latest version and the map of its
 * committed versions. Updating it (with optimistic locking) is the commit that makes a version
 * visible; everything staged for a version is invisible until the head lists it.
 */
export const packageHeadSchema = z.object({
  namespace: z.string(),
  name: z.string(),
  kind: manifestKindSchema,
  latestVersion: z.string(),
  description: z.string().optional(),
  labels: z.record(z.string(), z.string()),
  versions: z.record(z.string(), z.object({ digest: z.string(), registeredAt: z.string() })),
  updatedAt: z.string(),
  revision: z.number().int().nonnegative(),
});

export type PackageHead = z.infer<typeof packageHeadSchema>;

/** The stored item of a head, with the index keys that list it. */
export function packageHeadItem(head: PackageHead): Item {
  return {
    ...keys.package(head.namespace, head.name),
    ...head,
    GSI1PK: keys.packagesIndex.pk,
    GSI1SK: keys.packagesIndex.sk(head.namespace, head.name),
    GSI2PK: keys.packagesByKindIndex.pk(head.kind),
    GSI2SK: keys.packagesIndex.sk(head.namespace, head.name),
  };
}

/** Reads a stored head item back, dropping the key attributes. */
export function readPackageHead(item: Item): PackageHead {
  return packageHeadSchema.parse(item);
}

/** The summary a list shows of a head. */
export function summarize(head: PackageHead): PackageSummary {
  return {
    namespace: head.namespace,
    name: head.name,
    kind: head.kind,
    latestVersion: head.latestVersion,
    labels: head.labels,
    updatedAt: head.updatedAt,
    ...(head.description === undefined ? {} : { description: head.description }),
  };
}

export function packageHeadKey(namespace: string, name: string): ItemKey {
  return keys.package(namespace, name);
}

/** Lists package heads through the PACKAGES index (by namespace prefix) or the per-kind index. */
export class DynamoPackageReader implements PackageReader {
  constructor(private readonly table: SingleTable) {}

  async list(query: ListPackagesQuery): Promise<PackagePage> {
    const namespacePrefix =
      query.namespace === undefined ? undefined : keys.packagesIndex.sk(query.namespace, '');
    const page = await this.table.query({
      index: query.kind === undefined ? 'GSI1' : 'GSI2',
      partition: query.kind === undefined ? keys.packagesIndex.pk : keys.packagesByKindIndex.pk(query.kind),
      ...(namespacePrefix === undefined ? {} : { beginsWith: namespacePrefix }),
      ...(query.label === undefined ? {} : { filter: { [`labels.${query.label.key}`]: query.label.value } }),
      limit: query.limit,
      cursor: query.cursor,
    });
    const items = page.items.map((item) => summarize(readPackageHead(item)));
    return page.nextCursor === undefined ? { items } : { items, nextCursor: page.nextCursor };
  }
}
