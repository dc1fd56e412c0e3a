import * as z from 'zod';
import { apiVersionSchema, isPlainObject, versionedMetadataSchema } from './metadata.js';

export const DATASET_FORMATS = ['parquet', 'json', 'csv', 'avro'] as const;
export const CLASSIFICATIONS = ['public', 'internal', 'confidential', 'restricted'] as const;
export const SCHEMA_REF_PATTERN = /^[a-z][a-z0-9-]*(@.+)?$/u;

export const dataSetFieldSchema = z.strictObject({
  name: z.string(),
  type: z.string(),
  pii: z.boolean().optional(),
  from: z.string().optional(),
});

export const dataSetSpecSchema = z
  .strictObject({
    store: z.string(),
    table: z.string().optional(),
    prefix: z.string().optional(),
    topic: z.string().optional(),
    format: z.enum(DATASET_FORMATS).optional(),
    classification: z.enum(CLASSIFICATIONS).optional(),
    schema: z.array(dataSetFieldSchema).optional(),
    // The schema says "mutually exclusive with schema" only in prose; that rule (E310) is a lint, not a contract.
    schemaRef: z.string().regex(SCHEMA_REF_PATTERN).optional(),
  })
  .refine((spec) => spec.table !== undefined || spec.prefix !== undefined || spec.topic !== undefined, {
    message: 'a DataSet needs a location: spec.table, spec.prefix or spec.topic',
    params: { code: 'E221' },
    when: isPlainObject,
  });

/** A DataSet: a named data contract (table, prefix or topic) in a Store. */
export const dataSetManifestSchema = z.strictObject({
  apiVersion: apiVersionSchema,
  kind: z.literal('DataSet'),
  metadata: versionedMetadataSchema,
  spec: dataSetSpecSchema,
});

export type DataSetManifest = z.infer<typeof dataSetManifestSchema>;
export type DataSetSpec = z.infer<typeof dataSetSpecSchema>;
export type DataSetField = z.infer<typeof dataSetFieldSchema>;
export type Classification = (typeof CLASSIFICATIONS)[number];
