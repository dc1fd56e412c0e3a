import * as z from 'zod';
import { connectorManifestSchema } from './connector.js';
import { dataSetManifestSchema } from './dataset.js';
import { dataSetGroupManifestSchema } from './dataset-group.js';
import { manifestKinds } from './kinds.js';
import { storeManifestSchema } from './store.js';
import { transformManifestSchema } from './transform.js';

export const manifestKindSchema = z.enum(manifestKinds);
/** The five manifest kinds, as values (`ManifestKind.Transform`) and as a type. */
export const ManifestKind = manifestKindSchema.enum;
export type ManifestKind = z.infer<typeof manifestKindSchema>;

/** Any DataKit manifest, discriminated on `kind`. */
export const manifestSchema = z.discriminatedUnion('kind', [
  transformManifestSchema,
  dataSetManifestSchema,
  dataSetGroupManifestSchema,
  connectorManifestSchema,
  storeManifestSchema,
]);

export type Manifest = z.infer<typeof manifestSchema>;

/** The zod schema for one kind, for callers that already know what they hold. */
export const manifestSchemasByKind = {
  Transform: transformManifestSchema,
  DataSet: dataSetManifestSchema,
  DataSetGroup: dataSetGroupManifestSchema,
  Connector: connectorManifestSchema,
  Store: storeManifestSchema,
} as const;
