import * as z from 'zod';
import { dnsNameSchema, pageSchema, paginationQuerySchema } from './common.js';
import { deprecationSchema } from './deprecations.js';

/** A package version that declares, produces or consumes a DataSet. */
export const packageVersionRefSchema = z
  .object({ namespace: z.string(), name: z.string(), version: z.string() })
  .meta({ id: 'PackageVersionRef' });

export type PackageVersionRef = z.infer<typeof packageVersionRefSchema>;

/** Where a DataSet lives in its Store: exactly the fields its manifest sets. */
export const dataSetLocationSchema = z.object({
  table: z.string().optional(),
  prefix: z.string().optional(),
  topic: z.string().optional(),
});

/**
 * A DataSet as the registry knows it: its contract (from the latest visible version of the package
 * declaring it; absent when only Transforms name it) and the Transforms producing and consuming it.
 */
export const dataSetSummarySchema = z
  .object({
    namespace: z.string(),
    name: z.string(),
    /** False when no registered package declares the DataSet, only Transforms reference it. */
    declared: z.boolean(),
    declaredBy: packageVersionRefSchema.optional(),
    version: z.string().optional(),
    store: z.string().optional(),
    location: dataSetLocationSchema.optional(),
    format: z.string().optional(),
    classification: z.string().optional(),
    labels: z.record(z.string(), z.string()),
    producers: z.array(packageVersionRefSchema),
    consumers: z.array(packageVersionRefSchema),
    /** Set while the DataSet, or the DataSet package declaring it, is deprecated. */
    deprecation: deprecationSchema.optional(),
  })
  .meta({ id: 'DataSetSummary' });

export type DataSetSummary = z.infer<typeof dataSetSummarySchema>;

/** One DataSet with its schema. */
export const dataSetDetailSchema = dataSetSummarySchema
  .extend({
    schema: z
      .array(
        z.object({
          name: z.string(),
          type: z.string(),
          pii: z.boolean().optional(),
          from: z.string().optional(),
        }),
      )
      .optional(),
    schemaRef: z.string().optional(),
  })
  .meta({ id: 'DataSetDetail' });

export type DataSetDetail = z.infer<typeof dataSetDetailSchema>;

export const listDataSetsQuerySchema = paginationQuerySchema.extend({
  namespace: z.string().min(1).max(253).optional(),
});

export const dataSetPageSchema = pageSchema(dataSetSummarySchema).meta({ id: 'DataSetPage' });

export const dataSetPathSchema = z.object({ namespace: z.string().min(1).max(253), name: dnsNameSchema });
