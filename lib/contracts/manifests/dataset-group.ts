import * as z from 'zod';
import { apiVersionSchema, manifestNameSchema, nonEmptyUniqueArray, stringMapSchema } from './metadata.js';

/** A DataSetGroup: several DataSets materialised together in one Store. */
export const dataSetGroupManifestSchema = z.strictObject({
  apiVersion: apiVersionSchema,
  kind: z.literal('DataSetGroup'),
  metadata: z.strictObject({
    name: manifestNameSchema,
    namespace: z.string().optional(),
    labels: stringMapSchema.optional(),
  }),
  spec: z.strictObject({
    store: z.string(),
    datasets: nonEmptyUniqueArray(z.string(), 'dataset'),
  }),
});

export type DataSetGroupManifest = z.infer<typeof dataSetGroupManifestSchema>;
