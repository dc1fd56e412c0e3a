import * as z from 'zod';
import type { PackageDetail, PackageSummary } from '../../contracts/api/packages.js';
import { manifestKinds } from '../../contracts/manifests/kinds.js';
import type { PackageHead } from '../../domain/registry/model.js';
import { compareVersions } from '../../domain/registry/version-order.js';
import { keys } from './keys.js';
import type { Item } from './single-table.js';

/**
 * The package head as stored: one item per package holding its identity, latest version and the map
 * of its committed versions. Writing it (with optimistic locking) is the commit that makes a version
 * visible; everything staged for a version is invisible until the head lists it with the same digest.
 */
export const packageHeadSchema = z.object({
  namespace: z.string(),
  name: z.string(),
  kind: z.enum(manifestKinds),
  latestVersion: z.string(),
  description: z.string().optional(),
  labels: z.record(z.string(), z.string()),
  versions: z.record(
    z.string(),
    z.object({ digest: z.string(), registeredAt: z.string(), registrationId: z.string() }),
  ),
  updatedAt: z.string(),
  revision: z.number().int().nonnegative(),
});

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
  const { description, ...head } = packageHeadSchema.parse(item);
  return description === undefined ? head : { ...head, description };
}

/** The summary a list shows of a head. */
export function summarize(head: PackageHead): PackageSummary {
  return {
    namespace: head.namespace,
    name: head.name,
    kind: head.kind,
    latestVersion: head.latestVersion,
    labels: { ...head.labels },
    updatedAt: head.updatedAt,
    ...(head.description === undefined ? {} : { description: head.description }),
  };
}

/** A head with its versions, highest precedence first. */
export function detailOf(head: PackageHead): PackageDetail {
  const versions = Object.entries(head.versions)
    .map(([version, entry]) => ({ version, digest: entry.digest, registeredAt: entry.registeredAt }))
    .sort((a, b) => compareVersions(b.version, a.version));
  return { ...summarize(head), versions };
}
