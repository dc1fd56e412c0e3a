import { schemaDatasetFacetSchema } from '../../contracts/openlineage/facets.js';
import type {
  NormalizedDataset,
  NormalizedLineageEvent,
  NormalizedOutputDataset,
} from '../../contracts/openlineage/parse.js';
import { nameUuidFromText } from '../../contracts/openlineage/run-id.js';
import { canonicalJson, deterministicUuid } from './event-id.js';
import { applyJobIo } from './job-io.js';
import {
  type ColumnLineageRecord,
  type DatasetFieldRecord,
  type DatasetRecord,
  type DatasetRef,
  type DatasetVersionRecord,
  type JobRecord,
  MAX_RECENT_RUNS,
  type RecentRun,
  type RunDatasetVersion,
  type RunRecord,
} from './model.js';
import { type DatasetFieldNodeId, type DatasetNodeId, datasetFieldNodeId, datasetNodeId } from './node-id.js';
import { applyRunEvent } from './run-state.js';
import { datasetTagsOf, jobTagsOf, mergeTags } from './tags.js';

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

/** Tags a schema field lists itself (`fields[].tags`, as Marquez's own demo metadata sends them). */
function schemaFieldTags(field: { [key: string]: unknown }): string[] {
  const tags = field.tags;
  return Array.isArray(tags) ? tags.filter((tag): tag is string => typeof tag === 'string') : [];
}

function schemaFields(dataset: NormalizedDataset): DatasetFieldRecord[] | undefined {
  const fields = dataset.known.schema?.fields;
  if (fields === undefined) return undefined;
  return fields.map((field) => ({
    name: field.name,
    ...(field.type === undefined ? {} : { type: field.type }),
    ...(field.description === undefined ? {} : { description: field.description }),
    tags: mergeTags(schemaFieldTags(field)),
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
  // A run belongs to the job that first named it (as in Marquez, where a run row keeps its job): events of
  // another job reusing the run id still move its state, facets and datasets.
  const record: RunRecord = {
    ...state,
    runId: run.runId,
    namespace: current?.namespace ?? job.namespace,
    jobName: current?.jobName ?? job.name,
    args: current?.args ?? {},
    jobFacets: mergeFacets(current?.jobFacets ?? {}, job.facets, newer),
    inputVersions: mergeVersions(current?.inputVersions ?? [], inputs),
    outputVersions: mergeVersions(current?.outputVersions ?? [], outputs),
  };
  if (current?.jobVersion !== undefined) record.jobVersion = current.jobVersion;
  return record;
}

/** Whether a run belongs to the job (the first job that named its run id). */
export function ownsRun(job: { namespace: string; name: string }, run: RunRecord): boolean {
  return run.namespace === job.namespace && run.jobName === job.name;
}

/**
 * Marquez's job version (`Utils.newJobVersionFor`): the name-based UUID of `namespace:name:inputs:outputs`
 * and `:location` when there is one, each dataset list sorted and written `namespace:name:…`.
 */
export function jobVersionOf(
  job: { namespace: string; name: string; location?: string | undefined },
  inputs: readonly DatasetRef[],
  outputs: readonly DatasetRef[],
): string {
  const sorted = (refs: readonly DatasetRef[]) =>
    [...refs]
      .sort((a, b) =>
        a.namespace !== b.namespace ? (a.namespace < b.namespace ? -1 : 1) : a.name < b.name ? -1 : 1,
      )
      .flatMap((ref) => [ref.namespace, ref.name])
      .join(':');
  const parts = [job.namespace, job.name, sorted(inputs), sorted(outputs)];
  if (job.location !== undefined) parts.push(job.location);
  return nameUuidFromText(parts.join(':'));
}

/**
 * The run with its job version, as Marquez sets it: once the run ended (COMPLETE, FAIL, ABORT), from every
 * dataset it read and wrote; for a streaming job at every event that names datasets, since such a run may
 * never end. Order-tolerant: the version is a function of the run's final datasets.
 */
export function withJobVersion(run: RunRecord, job: JobRecord): RunRecord {
  const streaming = job.type === 'STREAM';
  const touched = run.inputVersions.length + run.outputVersions.length > 0;
  if (!(run.terminalEvent !== undefined || (streaming && touched))) return run;
  const jobVersion = jobVersionOf(job, run.inputVersions.map(refOf), run.outputVersions.map(refOf));
  return run.jobVersion === jobVersion ? run : { ...run, jobVersion };
}

/** A job's recent runs with `run` placed among them: newest first, each once, at most `MAX_RECENT_RUNS`. */
function withRecentRun(recent: readonly RecentRun[], run: RecentRun): RecentRun[] {
  const others = recent.filter((entry) => entry.runId !== run.runId);
  return [...others, run]
    .sort((a, b) =>
      a.createdAt !== b.createdAt ? (a.createdAt < b.createdAt ? 1 : -1) : a.runId < b.runId ? 1 : -1,
    )
    .slice(0, MAX_RECENT_RUNS);
}

const jobTypes: Readonly<Record<string, JobRecord['type']>> = {
  BATCH: 'BATCH',
  STREAMING: 'STREAM',
  STREAM: 'STREAM',
  SERVICE: 'SERVICE',
};

/**
 * Folds an event into a job record and its producer/consumer edges. `run` is the event's run when the job
 * owns it (`ownsRun`); an event naming another job's run changes this job like a JobEvent.
 */
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
  if (run !== undefined) {
    const recent = withRecentRun(next.recentRuns ?? [], { runId: run.runId, createdAt: run.createdAt });
    if (!equal(recent, next.recentRuns ?? [])) next.recentRuns = recent;
  }
  const tags = jobTagsOf(next.facets);
  if (tags.length > 0 || next.tags !== undefined) next.tags = tags;
  if (run !== undefined && next.latestRunId === run.runId) {
    const version = withJobVersion(run, next).jobVersion;
    if (version !== undefined) next.currentVersion = version;
  }
  return { ...change, job: next };
}

/**
 * Sets a dataset's tags and its fields' tags from its merged facets: the tags facet, and the tags the
 * newest schema facet lists on its fields. Facets dropped for size (`_truncated`) leave them as they were.
 */
function withTags(dataset: DatasetRecord): void {
  if ('_truncated' in dataset.facets) return;
  const schema = schemaDatasetFacetSchema.safeParse(dataset.facets.schema);
  const schemaTags = new Map(
    (schema.success ? (schema.data.fields ?? []) : []).map((field) => [field.name, schemaFieldTags(field)]),
  );
  const tags = datasetTagsOf(dataset.facets);
  dataset.tags = tags.dataset;
  dataset.fields = dataset.fields.map((field) => {
    const fieldTags = mergeTags(schemaTags.get(field.name), tags.fields.get(field.name));
    return equal(fieldTags, field.tags) ? field : { ...field, tags: fieldTags };
  });
}

/**
 * Folds one dataset of an event into its record; `updatedAt` moves only when something else changed. The
 * input facets of a run reading it (`inputFacets`: data quality metrics, assertions) join its facets, as in
 * Marquez; `written` is the version a successful write of it made.
 */
export function foldDataset(
  current: DatasetRecord | undefined,
  dataset: NormalizedDataset & { inputFacets?: Record<string, unknown> },
  event: Pick<NormalizedLineageEvent, 'eventTime'>,
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
  next.facets = mergeFacets(next.facets, { ...dataset.facets, ...dataset.inputFacets }, newer);
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
  withTags(next);
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

/**
 * A dataset version as its write left the dataset: the folded record's schema and facets, with the
 * output facets the run wrote it with (`outputFacets`), and the run that wrote it (none for a
 * DatasetEvent).
 */
export function versionRecordOf(
  dataset: DatasetRecord,
  version: string,
  createdAt: string,
  writer?: { runId: string; outputFacets: Record<string, unknown> },
): DatasetVersionRecord {
  const record: DatasetVersionRecord = {
    namespace: dataset.namespace,
    name: dataset.name,
    version,
    createdAt,
    fields: dataset.fields,
    facets: { ...dataset.facets, ...writer?.outputFacets },
  };
  if (writer !== undefined) record.createdByRunId = writer.runId;
  if (dataset.lastLifecycleState !== undefined) record.lifecycleState = dataset.lastLifecycleState;
  return record;
}

/**
 * The version a DatasetEvent declares: named by the dataset and what it declares (schema, lifecycle,
 * source), as Marquez names versions by their content, so the same declaration is the same version.
 */
export function datasetEventVersionId(dataset: NormalizedDataset): string {
  return deterministicUuid(
    'dataset-event',
    datasetNodeId(dataset.namespace, dataset.name),
    canonicalJson(dataset.known.schema?.fields ?? null),
    dataset.known.lifecycleStateChange?.lifecycleStateChange ?? '',
    dataset.known.dataSource?.name ?? '',
  );
}
