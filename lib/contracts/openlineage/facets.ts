import * as z from 'zod';

// The typed facet schemas are what the control plane reads, so they accept what real producers send: the
// `_producer`/`_schemaURL` pair the spec requires is optional here, and every object keeps unknown keys.
// A facet that fails its schema is still stored as opaque JSON; it just is not available in typed form.

/** Fields every facet may carry (`_deleted` asks a consumer to drop a job or dataset facet). */
export const baseFacetSchema = z.looseObject({
  _producer: z.string().optional(),
  _schemaURL: z.string().optional(),
  _deleted: z.boolean().optional(),
});

/** A field of SchemaDatasetFacet; struct columns nest further fields. */
export interface SchemaField {
  name: string;
  type?: string | undefined;
  description?: string | undefined;
  ordinal_position?: number | undefined;
  fields?: SchemaField[] | undefined;
  [key: string]: unknown;
}

/** SchemaDatasetFacet field, recursive for nested (struct) fields. */
export const schemaFieldSchema: z.ZodType<SchemaField> = z.lazy(() =>
  z.looseObject({
    name: z.string(),
    type: z.string().optional(),
    description: z.string().optional(),
    ordinal_position: z.int().optional(),
    fields: z.array(schemaFieldSchema).optional(),
  }),
);

/** `facets.schema` of a dataset: its columns. */
export const schemaDatasetFacetSchema = baseFacetSchema.extend({
  fields: z.array(schemaFieldSchema).optional(),
});
export type SchemaDatasetFacet = z.infer<typeof schemaDatasetFacetSchema>;

/** One transformation applied on the way from an input field to an output field (DIRECT/INDIRECT). */
export const columnTransformationSchema = z.looseObject({
  type: z.string(),
  subtype: z.string().optional(),
  description: z.string().optional(),
  masking: z.boolean().optional(),
});
export type ColumnTransformation = z.infer<typeof columnTransformationSchema>;

/** A field an output column (or the whole dataset) depends on. */
export const columnLineageInputFieldSchema = z.looseObject({
  namespace: z.string(),
  name: z.string(),
  field: z.string(),
  transformations: z.array(columnTransformationSchema).optional(),
});
export type ColumnLineageInputField = z.infer<typeof columnLineageInputFieldSchema>;

/** `facets.columnLineage` of an output dataset: output field → the input fields it is computed from. */
export const columnLineageDatasetFacetSchema = baseFacetSchema.extend({
  fields: z.record(
    z.string(),
    z.looseObject({
      inputFields: z.array(columnLineageInputFieldSchema),
      transformationDescription: z.string().optional(),
      transformationType: z.string().optional(),
    }),
  ),
  dataset: z.array(columnLineageInputFieldSchema).optional(),
});
export type ColumnLineageDatasetFacet = z.infer<typeof columnLineageDatasetFacetSchema>;

/** `facets.documentation` of a dataset or a job. */
export const documentationFacetSchema = baseFacetSchema.extend({
  description: z.string(),
  contentType: z.string().optional(),
});
export type DocumentationFacet = z.infer<typeof documentationFacetSchema>;

/** `facets.dataSource` of a dataset: where it lives (Marquez's source). */
export const datasourceDatasetFacetSchema = baseFacetSchema.extend({
  name: z.string().optional(),
  uri: z.string().optional(),
});
export type DatasourceDatasetFacet = z.infer<typeof datasourceDatasetFacetSchema>;

/** The lifecycle transitions a producer may report on a dataset. */
export const lifecycleStates = ['ALTER', 'CREATE', 'DROP', 'OVERWRITE', 'RENAME', 'TRUNCATE'] as const;

/** `facets.lifecycleStateChange` of a dataset: created, dropped, renamed... by this run. */
export const lifecycleStateChangeDatasetFacetSchema = baseFacetSchema.extend({
  lifecycleStateChange: z.enum(lifecycleStates),
  previousIdentifier: z.looseObject({ name: z.string(), namespace: z.string() }).optional(),
});
export type LifecycleStateChangeDatasetFacet = z.infer<typeof lifecycleStateChangeDatasetFacetSchema>;

/** `facets.symlinks` of a dataset: other identifiers of the same data (e.g. the table behind a path). */
export const symlinksDatasetFacetSchema = baseFacetSchema.extend({
  identifiers: z
    .array(z.looseObject({ namespace: z.string(), name: z.string(), type: z.string() }))
    .optional(),
});
export type SymlinksDatasetFacet = z.infer<typeof symlinksDatasetFacetSchema>;

/** One entry of a tags facet: a key and its value, for the whole dataset (or job) or one `field`. */
export const tagEntrySchema = z.looseObject({
  key: z.string(),
  value: z.union([z.string(), z.number(), z.boolean()]).optional(),
  source: z.string().optional(),
  field: z.string().optional(),
});
export type TagEntry = z.infer<typeof tagEntrySchema>;

/** `facets.tags` of a dataset or a job (TagsDatasetFacet, TagsJobFacet). */
export const tagsFacetSchema = baseFacetSchema.extend({ tags: z.array(tagEntrySchema) });
export type TagsFacet = z.infer<typeof tagsFacetSchema>;

/** `run.facets.parent`: the run (and job) that spawned this run, e.g. the DAG run of a task. */
export const parentRunFacetSchema = baseFacetSchema.extend({
  run: z.looseObject({ runId: z.string() }),
  job: z.looseObject({ namespace: z.string(), name: z.string() }),
  root: z
    .looseObject({
      run: z.looseObject({ runId: z.string() }),
      job: z.looseObject({ namespace: z.string(), name: z.string() }),
    })
    .optional(),
});
export type ParentRunFacet = z.infer<typeof parentRunFacetSchema>;

/** `run.facets.errorMessage`: why a run failed. */
export const errorMessageRunFacetSchema = baseFacetSchema.extend({
  message: z.string(),
  programmingLanguage: z.string(),
  stackTrace: z.string().optional(),
});
export type ErrorMessageRunFacet = z.infer<typeof errorMessageRunFacetSchema>;

/** `run.facets.nominalTime`: the scheduled window of the run. */
export const nominalTimeRunFacetSchema = baseFacetSchema.extend({
  nominalStartTime: z.string(),
  nominalEndTime: z.string().optional(),
});
export type NominalTimeRunFacet = z.infer<typeof nominalTimeRunFacetSchema>;

/** `job.facets.jobType`: BATCH/STREAMING/SERVICE and the integration that emitted it. */
export const jobTypeJobFacetSchema = baseFacetSchema.extend({
  processingType: z.string(),
  integration: z.string(),
  jobType: z.string().optional(),
});
export type JobTypeJobFacet = z.infer<typeof jobTypeJobFacetSchema>;

/** `job.facets.sql`: the query the job runs. */
export const sqlJobFacetSchema = baseFacetSchema.extend({
  query: z.string(),
  dialect: z.string().optional(),
});
export type SqlJobFacet = z.infer<typeof sqlJobFacetSchema>;

/** `job.facets.sourceCodeLocation`: where the job's code lives (Marquez's job `location`). */
export const sourceCodeLocationJobFacetSchema = baseFacetSchema.extend({
  type: z.string(),
  url: z.string(),
});
export type SourceCodeLocationJobFacet = z.infer<typeof sourceCodeLocationJobFacetSchema>;

// A known facet that is invalid, or marked `_deleted`, reads as absent instead of failing the event.
function readable<T extends z.ZodType<{ _deleted?: boolean | undefined }>>(schema: T) {
  return schema
    .refine((facet) => facet._deleted !== true)
    .optional()
    .catch(undefined);
}

/** Picks the run facets the control plane reads out of `run.facets`, typed where valid. */
export const knownRunFacetsSchema = z.object({
  parent: readable(parentRunFacetSchema),
  errorMessage: readable(errorMessageRunFacetSchema),
  nominalTime: readable(nominalTimeRunFacetSchema),
});
export type KnownRunFacets = z.infer<typeof knownRunFacetsSchema>;

/** Picks the job facets the control plane reads out of `job.facets`, typed where valid. */
export const knownJobFacetsSchema = z.object({
  jobType: readable(jobTypeJobFacetSchema),
  documentation: readable(documentationFacetSchema),
  sql: readable(sqlJobFacetSchema),
  sourceCodeLocation: readable(sourceCodeLocationJobFacetSchema),
  tags: readable(tagsFacetSchema),
});
export type KnownJobFacets = z.infer<typeof knownJobFacetsSchema>;

/** Picks the dataset facets the control plane reads out of a dataset's `facets`, typed where valid. */
export const knownDatasetFacetsSchema = z.object({
  schema: readable(schemaDatasetFacetSchema),
  columnLineage: readable(columnLineageDatasetFacetSchema),
  documentation: readable(documentationFacetSchema),
  dataSource: readable(datasourceDatasetFacetSchema),
  lifecycleStateChange: readable(lifecycleStateChangeDatasetFacetSchema),
  symlinks: readable(symlinksDatasetFacetSchema),
  tags: readable(tagsFacetSchema),
});
export type KnownDatasetFacets = z.infer<typeof knownDatasetFacetsSchema>;
