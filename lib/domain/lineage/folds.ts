import type {
  NormalizedDataset,
  NormalizedLineageEvent,
  NormalizedOutputDataset,
} from '../../contracts/openlineage/parse.js';
import { canonicalJson, deterministicUuid } from './event-id.js';
import { applyJobIo } from './job-io.js';
import type {
  ColumnLineageRecord,
  DatasetFieldRecord,
  DatasetRecord,
  DatasetRef,
  DatasetVersionRecord,
  JobRecord,
  RunDatasetVersion,
  RunRecord,
} from './model.js';
import { type DatasetFieldNodeId, type DatasetNodeId, datasetFieldNodeId, datasetNodeId } from './node-id.js';
import { applyRunEvent } from './run-state.js';

// The pure half of ingestion: how one event changes each record, given the record as stored. Every fold is
// idempotent and order-tolerant, so a replay or a late event changes nothing it should not.

/** Equal as JSON, whatever the key order. */
export function equal(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function minTime(a: string, b: string): string {
  return b < a ? b : a;
}

function maxTime(a: string, b: string): string {
  return b > a ? b : a;
}

/** The namespace and name of a job or dataset. */
export function refOf(dataset: { namespace: string; name: string }): DatasetRef {
  return { namespace: dataset.namespace, name: dataset.name };
}

/** Facets of a newer event replace same-named ones and drop `_deleted` ones; an older event only fills gaps. */
function mergeFacets(
  current: Record<string, unknown>,
  incoming: Record<string, unknown>,
  newer: boolean,
): Record<string, unknown> {
  const merged = newer ? { ...current, ...incoming } : { ...incoming, ...current };
  if (newer) {
    for (const [name, facet] of Object.entries(incoming)) {
      if (typeof facet === 'object' && facet !== null && '_deleted' in facet && facet._deleted === true) {
        delete merged[name];
      }
    }
  }
  return merged;
}

/** The version a run produced of an output dataset: one per (run, dataset), stable across retries. */
export function outputVersionId(runId: string, dataset: DatasetNodeId): string {
  return deterministicUuid('output', runId, dataset);
}

function schemaFields(dataset: NormalizedDataset): DatasetFieldRecord[] | undefined {
  const fields = dataset.known.schema?.fields;
  if (fields === undefined) return undefined;
  return fields.map((field) => ({
    name: field.name,
    ...(field.type === undefined ? {} : { type: field.type }),
    ...(field.description === undefined ? {} : { description: field.description }),
    tags: [],
  }));
}

/** Folds an event into a run record (order-tolerant: see `applyRunEvent`). */
export function foldRun(
  current: RunRecord | undefined,
  event: NormalizedLineageEvent,
  inputVersion: (id: DatasetNodeId) => string,
): RunRecord | undefined {
  const { run, job } = event;
  if (run === undefined || job === undefined) return undefined;
  const state = applyRunEvent(current, {
    eventTime: event.eventTime,
    facets: run.facets,
    ...(event.eventType === undefined ? {} : { eventType: event.eventType }),
  });
  const newer = current === undefined || event.eventTime >= current.updatedAt;
  const mergeVersions = (
    existing: readonly RunDatasetVersion[],
    incoming: readonly RunDatasetVersion[],
  ): RunDatasetVersion[] => {
    const byId = new Map(existing.map((v) => [datasetNodeId(v.namespace, v.name), v]));
    for (const version of incoming) {
      const id = datasetNodeId(version.namespace, version.name);
      const old = byId.get(id);
      byId.set(
        id,
        old === undefined ? version : { ...old, facets: mergeFacets(old.facets, version.facets, newer) },
      );
    }
    return [...byId.values()];
  };
  const inputs = event.inputs.map((input) => ({
    ...refOf(input),
    version: inputVersion(datasetNodeId(input.namespace, input.name)),
    facets: input.inputFacets,
  }));
  const outputs = event.outputs.map((output) => ({
    ...refOf(output),
    version: outputVersionId(run.runId, datasetNodeId(output.namespace, output.name)),
    facets: output.outputFacets,
  }));
  const record: RunRecord = {
    ...state,
    runId: run.runId,
    namespace: current?.namespace ?? job.namespace,
    jobName: current?.jobName ?? job.name,
    args: current?.args ?? {},
    inputVersions: mergeVersions(current?.inputVersions ?? [], inputs),
    outputVersions: mergeVersions(current?.outputVersions ?? [], outputs),
  };
  if (current?.jobVersion !== undefined) record.jobVersion = current.jobVersion;
  return record;
}

const jobTypes: Readonly<Record<string, JobRecord['type']>> = {
  BATCH: 'BATCH',
  STREAMING: 'STREAM',
  STREAM: 'STREAM',
  SERVICE: 'SERVICE',
};

/** Folds an event into a job record and its producer/consumer edges. */
export function foldJob(
  current: JobRecord | undefined,
  event: NormalizedLineageEvent,
  run: RunRecord | undefined,
): ReturnType<typeof applyJobIo> & { job: JobRecord } {
  const job = event.job;
  if (job === undefined) throw new Error('foldJob needs an event with a job');
  const time = event.eventTime;
  const newer = current === undefined || time >= current.updatedAt;
  const next: JobRecord = current
    ? { ...current, facets: { ...current.facets } }
    : {
        namespace: job.namespace,
        name: job.name,
        type: 'BATCH',
        createdAt: time,
        updatedAt: time,
        facets: {},
        io: { current: { inputs: [], outputs: [] } },
      };
  next.createdAt = minTime(next.createdAt, time);
  next.updatedAt = maxTime(next.updatedAt, time);
  next.facets = mergeFacets(next.facets, job.facets, newer);
  if (newer || current === undefined) {
    const processing = job.known.jobType?.processingType.toUpperCase();
    const type = processing === undefined ? undefined : jobTypes[processing];
    if (type !== undefined) next.type = type;
    const description = job.known.documentation?.description;
    if (description !== undefined) next.description = description;
    const location = job.known.sourceCodeLocation?.url;
    if (location !== undefined) next.location = location;
    const parent = event.run?.known.parent?.job;
    if (parent !== undefined && parent.namespace === job.namespace && parent.name !== job.name) {
      next.parentJobName = parent.name;
    }
  }
  const change = applyJobIo(current?.io, refOf(job), {
    ...(run === undefined ? {} : { run: { runId: run.runId, firstEventAt: run.createdAt } }),
    ...(event.eventType === undefined ? {} : { eventType: event.eventType }),
    inputs: event.inputs.map(refOf),
    outputs: event.outputs.map(refOf),
  });
  next.io = change.state;
  const latest = change.state.latestRun?.runId;
  if (latest !== undefined) next.latestRunId = latest;
  return { ...change, job: next };
}

/** Folds one dataset of an event into its record; `updatedAt` moves only when something else changed. */
export function foldDataset(
  current: DatasetRecord | undefined,
  dataset: NormalizedDataset,
  event: NormalizedLineageEvent,
  written?: { version: string },
): DatasetRecord {
  const time = event.eventTime;
  const newer = current === undefined || time >= current.updatedAt;
  const next: DatasetRecord = current
    ? { ...current }
    : {
        namespace: dataset.namespace,
        name: dataset.name,
        type: 'DB_TABLE',
        physicalName: dataset.name,
        sourceName: dataset.known.dataSource?.name ?? dataset.namespace,
        createdAt: time,
        updatedAt: time,
        fields: [],
        tags: [],
        facets: {},
      };
  next.createdAt = minTime(next.createdAt, time);
  next.facets = mergeFacets(next.facets, dataset.facets, newer);
  if (newer) {
    const fields = schemaFields(dataset);
    if (fields !== undefined) next.fields = fields;
    const description = dataset.known.documentation?.description;
    if (description !== undefined) next.description = description;
    const source = dataset.known.dataSource?.name;
    if (source !== undefined) next.sourceName = source;
    const lifecycle = dataset.known.lifecycleStateChange?.lifecycleStateChange;
    if (lifecycle !== undefined) {
      next.lastLifecycleState = lifecycle;
      next.deleted = lifecycle === 'DROP';
    }
  }
  if (written !== undefined && (next.lastModifiedAt === undefined || time >= next.lastModifiedAt)) {
    next.lastModifiedAt = time;
    next.currentVersion = written.version;
  }
  if (current !== undefined && equal({ ...next, updatedAt: '' }, { ...current, updatedAt: '' }))
    return current;
  next.updatedAt = current === undefined ? time : maxTime(current.updatedAt, time);
  return next;
}

/** The column lineage an output declares (ColumnLineageDatasetFacet), one record per output field. */
export function columnLineageOf(
  output: NormalizedOutputDataset,
  eventTime: string,
): { record: ColumnLineageRecord; inputs: DatasetFieldNodeId[] }[] {
  const facet = output.known.columnLineage;
  if (facet === undefined) return [];
  const types = new Map((output.known.schema?.fields ?? []).map((field) => [field.name, field.type]));
  return Object.entries(facet.fields).map(([field, lineage]) => {
    const record: ColumnLineageRecord = {
      namespace: output.namespace,
      dataset: output.name,
      field,
      inputFields: lineage.inputFields.map((input) => {
        const transformation = input.transformations?.[0];
        return {
          namespace: input.namespace,
          dataset: input.name,
          field: input.field,
          ...(transformation?.description === undefined
            ? {}
            : { transformationDescription: transformation.description }),
          ...(transformation === undefined ? {} : { transformationType: transformation.type }),
        };
      }),
      updatedAt: eventTime,
    };
    const fieldType = types.get(field);
    if (fieldType !== undefined) record.fieldType = fieldType;
    if (lineage.transformationDescription !== undefined)
      record.transformationDescription = lineage.transformationDescription;
    if (lineage.transformationType !== undefined) record.transformationType = lineage.transformationType;
    const inputs = [
      ...new Set(
        record.inputFields.map((input) => datasetFieldNodeId(input.namespace, input.dataset, input.field)),
      ),
    ];
    return { record, inputs };
  });
}

/** The version of an output a COMPLETE event records: its schema and facets as this run wrote it. */
export function versionRecordOf(
  output: NormalizedOutputDataset,
  runId: string,
  eventTime: string,
): DatasetVersionRecord {
  const record: DatasetVersionRecord = {
    namespace: output.namespace,
    name: output.name,
    version: outputVersionId(runId, datasetNodeId(output.namespace, output.name)),
    createdAt: eventTime,
    createdByRunId: runId,
    fields: schemaFields(output) ?? [],
    facets: { ...output.facets, ...output.outputFacets },
  };
  const lifecycle = output.known.lifecycleStateChange?.lifecycleStateChange;
  if (lifecycle !== undefined) record.lifecycleState = lifecycle;
  return record;
}
