import * as z from 'zod';
import type {
  ColumnLineageRecord,
  DatasetRecord,
  DatasetVersionRecord,
  JobRecord,
  RunRecord,
} from '../../domain/lineage/model.js';

// The lineage records are stored as JSON text (`doc`): facets are arbitrary producer JSON, which as a
// DynamoDB map could exceed its 32 nesting levels or lose number precision. Reading them back goes
// through these schemas, so a corrupt item fails loudly instead of flowing on untyped.

const facets = z.record(z.string(), z.unknown());
const ref = z.object({ namespace: z.string(), name: z.string() });

const runDatasetVersion = z.object({
  namespace: z.string(),
  name: z.string(),
  version: z.string(),
  facets,
});

export const runRecordSchema: z.ZodType<RunRecord> = z.object({
  runId: z.string(),
  namespace: z.string(),
  jobName: z.string(),
  args: z.record(z.string(), z.string()),
  jobVersion: z.string().exactOptional(),
  jobFacets: facets.exactOptional(),
  inputVersions: z.array(runDatasetVersion),
  outputVersions: z.array(runDatasetVersion),
  state: z.enum(['NEW', 'RUNNING', 'COMPLETED', 'FAILED', 'ABORTED']),
  createdAt: z.string(),
  updatedAt: z.string(),
  startedAt: z.string().exactOptional(),
  endedAt: z.string().exactOptional(),
  terminalEvent: z.enum(['COMPLETE', 'FAIL', 'ABORT']).exactOptional(),
  facets,
  facetTimes: z.record(z.string(), z.string()),
});

export const jobRecordSchema: z.ZodType<JobRecord> = z.object({
  namespace: z.string(),
  name: z.string(),
  type: z.enum(['BATCH', 'STREAM', 'SERVICE']),
  createdAt: z.string(),
  updatedAt: z.string(),
  facets,
  description: z.string().exactOptional(),
  location: z.string().exactOptional(),
  parentJobName: z.string().exactOptional(),
  currentVersion: z.string().exactOptional(),
  latestRunId: z.string().exactOptional(),
  recentRuns: z.array(z.object({ runId: z.string(), createdAt: z.string() })).exactOptional(),
  tags: z.array(z.string()).exactOptional(),
  io: z.object({
    current: z.object({ inputs: z.array(ref), outputs: z.array(ref) }),
    latestRun: z
      .object({
        runId: z.string(),
        firstEventAt: z.string(),
        terminated: z.boolean(),
        inputs: z.array(ref),
        outputs: z.array(ref),
      })
      .exactOptional(),
  }),
});

const fieldRecord = z.object({
  name: z.string(),
  type: z.string().exactOptional(),
  description: z.string().exactOptional(),
  tags: z.array(z.string()),
});

export const datasetRecordSchema: z.ZodType<DatasetRecord> = z.object({
  namespace: z.string(),
  name: z.string(),
  type: z.enum(['DB_TABLE', 'STREAM']),
  physicalName: z.string(),
  sourceName: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  fields: z.array(fieldRecord),
  tags: z.array(z.string()),
  description: z.string().exactOptional(),
  facets,
  currentVersion: z.string().exactOptional(),
  lastModifiedAt: z.string().exactOptional(),
  lastLifecycleState: z.string().exactOptional(),
  deleted: z.boolean().exactOptional(),
});

export const datasetVersionRecordSchema: z.ZodType<DatasetVersionRecord> = z.object({
  namespace: z.string(),
  name: z.string(),
  version: z.string(),
  createdAt: z.string(),
  createdByRunId: z.string().exactOptional(),
  fields: z.array(fieldRecord),
  facets,
  lifecycleState: z.string().exactOptional(),
});

export const columnLineageRecordSchema: z.ZodType<ColumnLineageRecord> = z.object({
  namespace: z.string(),
  dataset: z.string(),
  field: z.string(),
  fieldType: z.string().exactOptional(),
  transformationDescription: z.string().exactOptional(),
  transformationType: z.string().exactOptional(),
  inputFields: z.array(
    z.object({
      namespace: z.string(),
      dataset: z.string(),
      field: z.string(),
      transformationDescription: z.string().exactOptional(),
      transformationType: z.string().exactOptional(),
    }),
  ),
  updatedAt: z.string(),
});

/** Parses a stored `doc` attribute with its schema. */
export function readDoc<T>(schema: z.ZodType<T>, doc: string): T {
  return schema.parse(JSON.parse(doc));
}
