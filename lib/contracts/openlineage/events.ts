import * as z from 'zod';
import { normalizeEventTime } from './event-time.js';

// These schemas state the OpenLineage 2-0-2 spec as written (schemaURL and producer required, facets carrying
// `_producer`/`_schemaURL`). The ingestion endpoint does not use them to refuse events — `parse.ts` is as
// lenient as Marquez — but they type what a well-behaved producer sends and what the control plane emits.

/** The run transitions OpenLineage defines; START and one of COMPLETE/ABORT/FAIL per run. */
export const eventTypes = ['START', 'RUNNING', 'COMPLETE', 'ABORT', 'FAIL', 'OTHER'] as const;
export const eventTypeSchema = z.enum(eventTypes);
export type EventType = z.infer<typeof eventTypeSchema>;

/** A facet as the spec requires it: any object with `_producer` and `_schemaURL`. */
export const specFacetSchema = z.looseObject({ _producer: z.string(), _schemaURL: z.string() });
export type SpecFacet = z.infer<typeof specFacetSchema>;

/** A facets container: facet name → facet. */
export const facetsSchema = z.record(z.string(), specFacetSchema);
export type Facets = z.infer<typeof facetsSchema>;

/** RFC 3339 date-time with a zone, as `format: date-time` demands. */
export const dateTimeSchema = z
  .string()
  .refine((text) => /(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$/.test(text) && normalizeEventTime(text) !== undefined, {
    message: 'Expected an RFC 3339 date-time with a zone',
  });

/** `run`: the run id (a UUID) and its facets. */
export const runSchema = z.looseObject({ runId: z.guid(), facets: facetsSchema.optional() });
export type Run = z.infer<typeof runSchema>;

/** `job`: namespace and name identify it; facets describe it. */
export const jobSchema = z.looseObject({
  namespace: z.string(),
  name: z.string(),
  facets: facetsSchema.optional(),
});
export type Job = z.infer<typeof jobSchema>;

/** A dataset: namespace and name identify it; facets describe it. */
export const datasetSchema = z.looseObject({
  namespace: z.string(),
  name: z.string(),
  facets: facetsSchema.optional(),
});
export type Dataset = z.infer<typeof datasetSchema>;

/** A dataset a run reads, with facets that only make sense for this read (`inputFacets`). */
export const inputDatasetSchema = datasetSchema.extend({ inputFacets: facetsSchema.optional() });
export type InputDataset = z.infer<typeof inputDatasetSchema>;

/** A dataset a run writes, with facets that only make sense for this write (`outputFacets`). */
export const outputDatasetSchema = datasetSchema.extend({ outputFacets: facetsSchema.optional() });
export type OutputDataset = z.infer<typeof outputDatasetSchema>;

const baseEvent = { eventTime: dateTimeSchema, producer: z.string(), schemaURL: z.string() };

/** A run transition of a job, with the datasets it read and wrote. */
export const runEventSchema = z.looseObject({
  ...baseEvent,
  eventType: eventTypeSchema.optional(),
  run: runSchema,
  job: jobSchema,
  inputs: z.array(inputDatasetSchema).optional(),
  outputs: z.array(outputDatasetSchema).optional(),
});
export type RunEvent = z.infer<typeof runEventSchema>;

/** Static metadata about a dataset, outside of any run. */
export const datasetEventSchema = z
  .looseObject({ ...baseEvent, dataset: datasetSchema })
  .refine((event) => !('job' in event && 'run' in event), { message: 'A DatasetEvent has no job and run' });
export type DatasetEvent = z.infer<typeof datasetEventSchema>;

/** Static metadata about a job (and the datasets it declares), outside of any run. */
export const jobEventSchema = z
  .looseObject({
    ...baseEvent,
    job: jobSchema,
    inputs: z.array(inputDatasetSchema).optional(),
    outputs: z.array(outputDatasetSchema).optional(),
  })
  .refine((event) => !('run' in event), { message: 'A JobEvent has no run' });
export type JobEvent = z.infer<typeof jobEventSchema>;
