import { z } from 'zod';
import { dnsNameSchema, pageSchema, paginationQuerySchema } from './common.js';

export const manifestKindSchema = z.enum(['Transform', 'DataSet', 'DataSetGroup', 'Connector', 'Store']);

/** A package as listed: its identity and latest version. */
export const packageSummarySchema = z
  .object({
    namespace: z.string(),
    name: z.string(),
    kind: manifestKindSchema,
    latestVersion: z.string(),
    description: z.string().optional(),
    labels: z.record(z.string(), z.string()),
    updatedAt: z.string(),
  })
  .meta({ id: 'PackageSummary' });

export type PackageSummary = z.infer<typeof packageSummarySchema>;

export const listPackagesQuerySchema = paginationQuerySchema.extend({
  namespace: z.string().min(1).optional(),
  kind: manifestKindSchema.optional(),
  /** `key=value` */
  label: z
    .string()
    .regex(/^[^=]+=.*$/, 'must be key=value')
    .optional(),
});

export const packagePageSchema = pageSchema(packageSummarySchema).meta({ id: 'PackagePage' });

export const packagePathSchema = z.object({ namespace: z.string().min(1).max(253), name: dnsNameSchema });
