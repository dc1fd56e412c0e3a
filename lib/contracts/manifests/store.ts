import * as z from 'zod';
import { apiVersionSchema, manifestNameSchema, stringMapSchema } from './metadata.js';

/** The schema's secret pattern, unanchored as in JSON Schema: the value must contain one `${VAR}` reference. */
export const SECRET_REFERENCE_PATTERN = /.*\$\{[A-Za-z_][A-Za-z0-9_]*\}.*/u;

/** A Store: a named infrastructure instance of a Connector, with connection details and secret references. */
export const storeManifestSchema = z.strictObject({
  apiVersion: apiVersionSchema,
  kind: z.literal('Store'),
  metadata: z.strictObject({
    name: manifestNameSchema,
    namespace: z.string().optional(),
    labels: stringMapSchema.optional(),
    annotations: stringMapSchema.optional(),
  }),
  spec: z.strictObject({
    connector: z.string(),
    connectorVersion: z.string().optional(),
    connection: z.record(z.string(), z.unknown()).refine((connection) => Object.keys(connection).length > 0, {
      message: 'spec.connection needs at least one connection parameter',
    }),
    secrets: z.record(z.string(), z.string().regex(SECRET_REFERENCE_PATTERN)).optional(),
  }),
});

export type StoreManifest = z.infer<typeof storeManifestSchema>;
