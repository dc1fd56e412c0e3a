import { datasetUpdatedDetailSchema } from '../../contracts/events/lineage.js';
import type {
  NormalizedDataset,
  NormalizedLineageEvent,
  NormalizedOutputDataset,
} from '../../contracts/openlineage/parse.js';
import type { DomainEvent, EventPublisher } from '../../ports/event-publisher.js';
import type {
  LineageSnapshot,
  LineageWriter,
  StoredDataset,
  StoredField,
  StoredJob,
  StoredRun,
} from '../../ports/lineage-store.js';
import { DependencyUnavailableError } from '../errors.js';
import { canonicalJson, deterministicUuid, lineageEventId } from './event-id.js';
import type { Edge } from './graph.js';
import { applyJobIo, jobIoEdges } from './job-io.js';
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
import {
  type DatasetFieldNodeId,
  type DatasetNodeId,
  datasetFieldNodeId,
  datasetNodeId,
  isDatasetNodeId,
  type JobNodeId,
  jobNodeId,
} from './node-id.js';
import { applyRunEvent } from './run-state.js';

/** What one ingestion did. */
export interface IngestOutcome {
  eventId: string;
  /** The raw event was already stored (a retry or replay); the graph folds found nothing new to write. */
  replay: boolean;
  /** `DataSet Updated` events published. */
  published: number;
}

export interface IngestDependencies {
  readonly store: LineageWriter;
  readonly events: EventPublisher;
  readonly clock: () => Date;
  /** Attempts per record under concurrent writers before answering 503. @default 8 */
  readonly maxAttempts?: number;
}

/** Thrown when concurrent writers kept winning; the caller's retry will succeed. */
const contended = () =>
  new DependencyUnavailableError(
    'LINEAGE_CONTENDED',
    'Concurrent lineage events for the same job kept conflicting; retry.',
  );

async function backoff(attempt: number): Promise<void> {
  const delay = Math.min(200, 5 * 2 ** attempt) * (0.5 + Math.random() / 2);
  await new Promise((resolve) => setTimeout(resolve, delay));
}

/** Retries `attempt` (0 = use what the snapshot read, later = read again) until it reports success. */
async function withConflictRetries<T>(
  maxAttempts: number,
  attempt: (fresh: boolean) => Promise<T | typeof CONFLICT>,
): Promise<T> {
  for (let index = 0; index < maxAttempts; index++) {
    if (index > 1) await backoff(index);
    const result = await attempt(index > 0);
    if (result !== CONFLICT) return result;
  }
  throw contended();
}

const CONFLICT = Symbol('conflict');

function equal(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function minTime(a: string, b: string): string {
  return b < a ? b : a;
}

function maxTime(a: string, b: string): string {
  return b > a ? b : a;
}

function refOf(dataset: { namespace: string; name: string }): DatasetRef {
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

/** Datasets a job's edges touch, by the role the job has on them. */
interface RoleEdges {
  /** Datasets the job reads (dataset → job). */
  readers: ReadonlySet<DatasetNodeId>;
  /** Datasets the job writes (job → dataset). */
  writers: ReadonlySet<DatasetNodeId>;
}

function roleEdges(edges: readonly Edge[]): RoleEdges {
  const readers = new Set<DatasetNodeId>();
  const writers = new Set<DatasetNodeId>();
  for (const edge of edges) {
    if (isDatasetNodeId(edge.origin)) readers.add(edge.origin);
    else if (isDatasetNodeId(edge.destination)) writers.add(edge.destination);
  }
  return { readers, writers };
}

function unique<T>(items: Iterable<T>): T[] {
  return [...new Set(items)];
}

/**
 * `POST /api/v1/lineage`: stores the raw event first (the replayable source of truth), then folds it
 * into runs, jobs, datasets, dataset versions, column lineage and the producer/consumer edges, and
 * publishes `DataSet Updated` for every output of a `COMPLETE` event. Every fold is idempotent and
 * order-tolerant and skips writes that would change nothing, so a replay writes nothing but the
 * (refused) raw put; concurrent events of one job or dataset retry on optimistic-locking conflicts.
 */
export function makeIngestLineageEvent(deps: IngestDependencies) {
  const maxAttempts = deps.maxAttempts ?? 8;
  const { store } = deps;

  return async function ingestLineageEvent(event: NormalizedLineageEvent): Promise<IngestOutcome> {
    const eventId = lineageEventId(event.raw);
    const stored = await store.putRawEvent({
      eventId,
      eventTime: event.eventTime,
      receivedAt: deps.clock().toISOString(),
      json: JSON.stringify(event.raw),
    });
    const namespaces = unique([
      ...(event.job === undefined ? [] : [event.job.namespace]),
      ...(event.dataset === undefined ? [] : [event.dataset.namespace]),
      ...event.inputs.map((input) => input.namespace),
      ...event.outputs.map((output) => output.namespace),
    ]);
    await store.ensureNamespaces(
      namespaces.map((name) => ({
        name,
        createdAt: event.eventTime,
        updatedAt: event.eventTime,
        ownerName: 'anonymous',
      })),
    );

    if (event.kind === 'dataset' && event.dataset !== undefined) {
      await foldDatasets(
        event,
        [event.dataset],
        undefined,
        await store.snapshot({
          datasetIds: [datasetNodeId(event.dataset.namespace, event.dataset.name)],
        }),
      );
      return { eventId, replay: !stored, published: 0 };
    }
    const job = event.job;
    if (job === undefined) return { eventId, replay: !stored, published: 0 };
    const jobId = jobNodeId(job.namespace, job.name);
    const datasets = new Map<DatasetNodeId, NormalizedDataset>();
    for (const dataset of [...event.inputs, ...event.outputs]) {
      datasets.set(datasetNodeId(dataset.namespace, dataset.name), dataset);
    }
    const lineage = event.outputs.flatMap((output) => columnLineageOf(output, event.eventTime));
    const snapshot = await store.snapshot({
      ...(event.run === undefined ? {} : { runId: event.run.runId }),
      jobId,
      datasetIds: [...datasets.keys()],
      fieldIds: lineage.map(({ record }) =>
        datasetFieldNodeId(record.namespace, record.dataset, record.field),
      ),
    });

    const folded = event.run === undefined ? undefined : await foldAndWriteRun(event, snapshot);
    const run = folded?.run;
    const jobChange = await foldAndWriteJob(event, jobId, run, snapshot);
    const { inputs, outputs } = jobChange.job.io.current;
    const currentReads = new Set(inputs.map((ref) => datasetNodeId(ref.namespace, ref.name)));
    const currentWrites = new Set(outputs.map((ref) => datasetNodeId(ref.namespace, ref.name)));
    // Edges this fold added are written even when the snapshot shows them: a concurrent event of this job
    // may be deleting them right now (its fold dropped them before ours restored them).
    const addedEdges = roleEdges(jobChange.added);

    const complete = event.eventType === 'COMPLETE' && event.run !== undefined;
    const versions = new Map<DatasetNodeId, string>();
    if (complete && event.run !== undefined) {
      for (const output of event.outputs) {
        const id = datasetNodeId(output.namespace, output.name);
        versions.set(id, outputVersionId(event.run.runId, id));
      }
    }
    const lineageFields = new Map<DatasetNodeId, string[]>();
    for (const { record } of lineage) {
      const id = datasetNodeId(record.namespace, record.dataset);
      lineageFields.set(id, [...(lineageFields.get(id) ?? []), record.field]);
    }

    await Promise.all([
      foldDatasets(
        event,
        [...datasets.values()],
        { jobId, currentReads, currentWrites, addedEdges, versions, lineageFields },
        snapshot,
      ),
      removeEdges(jobId, jobChange.removed),
      writeColumnLineage(lineage, snapshot.fields),
      // A replay whose run fold changed nothing has written its versions already.
      complete && event.run !== undefined && (stored || folded?.changed === true)
        ? writeVersions(event, event.run.runId, versions)
        : Promise.resolve(),
    ]);

    let published = 0;
    if (complete && event.run !== undefined && event.outputs.length > 0) {
      const runId = event.run.runId;
      const updates: DomainEvent[] = event.outputs.map((output) => {
        const id = datasetNodeId(output.namespace, output.name);
        const detail = datasetUpdatedDetailSchema.parse({
          dataset: refOf(output),
          version: versions.get(id) ?? outputVersionId(runId, id),
          runId,
          job: refOf(job),
          eventTime: event.eventTime,
          producer: event.producer,
          lineageEventId: eventId,
        });
        return { detailType: 'DataSet Updated', detail, resources: [id], time: new Date(event.eventTime) };
      });
      await deps.events.publish(updates);
      published = updates.length;
    }
    return { eventId, replay: !stored, published };
  };

  async function foldAndWriteRun(
    event: NormalizedLineageEvent,
    snapshot: LineageSnapshot,
  ): Promise<{ run: RunRecord; changed: boolean }> {
    const runId = event.run?.runId ?? '';
    const parent = event.run?.known.parent?.run.runId.toLowerCase();
    const inputVersion = (id: DatasetNodeId) =>
      snapshot.datasets.get(id)?.dataset.currentVersion ?? deterministicUuid('unversioned', id);
    return withConflictRetries(maxAttempts, async (fresh) => {
      const current: StoredRun | undefined = fresh ? (await store.snapshot({ runId })).run : snapshot.run;
      const next = foldRun(current?.run, event, inputVersion);
      if (next === undefined) throw new Error('run event without run');
      if (current !== undefined && equal(current.run, next)) return { run: next, changed: false };
      const written = await store.writeRun(next, current?.revision ?? 0, parent);
      return written ? { run: next, changed: true } : CONFLICT;
    });
  }

  async function foldAndWriteJob(
    event: NormalizedLineageEvent,
    jobId: JobNodeId,
    run: RunRecord | undefined,
    snapshot: LineageSnapshot,
  ): Promise<ReturnType<typeof foldJob>> {
    return withConflictRetries(maxAttempts, async (fresh) => {
      const current: StoredJob | undefined = fresh ? (await store.snapshot({ jobId })).job : snapshot.job;
      const change = foldJob(current?.job, event, run);
      const latestRun = run !== undefined && change.job.latestRunId === run.runId ? run : current?.latestRun;
      if (current !== undefined && equal(current.job, change.job) && equal(current.latestRun, latestRun)) {
        return change;
      }
      return (await store.writeJob(change.job, latestRun, current?.revision ?? 0)) ? change : CONFLICT;
    });
  }

  async function foldDatasets(
    event: NormalizedLineageEvent,
    datasets: readonly NormalizedDataset[],
    edges:
      | {
          jobId: JobNodeId;
          currentReads: ReadonlySet<DatasetNodeId>;
          currentWrites: ReadonlySet<DatasetNodeId>;
          addedEdges: RoleEdges;
          versions: ReadonlyMap<DatasetNodeId, string>;
          lineageFields: ReadonlyMap<DatasetNodeId, string[]>;
        }
      | undefined,
    snapshot: LineageSnapshot,
  ): Promise<void> {
    await Promise.all(
      datasets.map((dataset) => {
        const id = datasetNodeId(dataset.namespace, dataset.name);
        const version = edges?.versions.get(id);
        return withConflictRetries(maxAttempts, async (fresh) => {
          const current: StoredDataset | undefined = fresh
            ? (await store.snapshot({ datasetIds: [id] })).datasets.get(id)
            : snapshot.datasets.get(id);
          const next = foldDataset(
            current?.dataset,
            dataset,
            event,
            version === undefined ? undefined : { version },
          );
          const changed = current === undefined || next !== current.dataset;
          const addWriters =
            edges?.currentWrites.has(id) &&
            (current?.writers.has(edges.jobId) !== true || edges.addedEdges.writers.has(id))
              ? [edges.jobId]
              : [];
          const addReaders =
            edges?.currentReads.has(id) &&
            (current?.readers.has(edges.jobId) !== true || edges.addedEdges.readers.has(id))
              ? [edges.jobId]
              : [];
          const addLineageFields = (edges?.lineageFields.get(id) ?? []).filter(
            (field) => current?.lineageFields.has(field) !== true,
          );
          if (!changed && addWriters.length + addReaders.length + addLineageFields.length === 0) return true;
          const written = await store.writeDataset(id, {
            ...(changed ? { dataset: next } : {}),
            expectedRevision: current?.revision ?? 0,
            addWriters,
            addReaders,
            addLineageFields,
          });
          return written ? true : CONFLICT;
        });
      }),
    );
  }

  /**
   * Deletes the job from the edge sets of datasets it stopped reading or writing, then reads the job again:
   * a concurrent event of the same job may have restored an edge after our fold and written it before our
   * delete landed, so an edge the job holds again is added back. Only a fold's diff deletes (rare), so
   * the extra read is too.
   */
  async function removeEdges(jobId: JobNodeId, removed: readonly Edge[]): Promise<void> {
    const edges = roleEdges(removed);
    if (edges.readers.size + edges.writers.size === 0) return;
    await Promise.all([
      ...[...edges.readers].map((id) => store.removeDatasetEdges(id, { readers: [jobId] })),
      ...[...edges.writers].map((id) => store.removeDatasetEdges(id, { writers: [jobId] })),
    ]);
    const job = (await store.snapshot({ jobId })).job?.job;
    if (job === undefined) return;
    const held = roleEdges(jobIoEdges(job, job.io.current));
    await Promise.all([
      ...[...edges.readers]
        .filter((id) => held.readers.has(id))
        .map((id) => store.writeDataset(id, { expectedRevision: 0, addReaders: [jobId] })),
      ...[...edges.writers]
        .filter((id) => held.writers.has(id))
        .map((id) => store.writeDataset(id, { expectedRevision: 0, addWriters: [jobId] })),
    ]);
  }

  async function writeColumnLineage(
    lineage: readonly { record: ColumnLineageRecord; inputs: DatasetFieldNodeId[] }[],
    fields: ReadonlyMap<DatasetFieldNodeId, StoredField>,
  ): Promise<void> {
    await Promise.all(
      lineage.map(async ({ record, inputs }) => {
        const id = datasetFieldNodeId(record.namespace, record.dataset, record.field);
        const current = fields.get(id);
        const previous = current?.inputs ?? [];
        const unchanged =
          current?.record !== undefined &&
          equal({ ...current.record, updatedAt: '' }, { ...record, updatedAt: '' }) &&
          inputs.every((input) => previous.includes(input));
        if (unchanged) return;
        if (!(await store.writeColumnLineage(record, inputs))) return;
        await store.updateFieldConsumers(id, {
          add: inputs,
          remove: previous.filter((input) => !inputs.includes(input)),
        });
      }),
    );
  }

  async function writeVersions(
    event: NormalizedLineageEvent,
    runId: string,
    versions: ReadonlyMap<DatasetNodeId, string>,
  ): Promise<void> {
    const records: DatasetVersionRecord[] = event.outputs.map((output) => {
      const id = datasetNodeId(output.namespace, output.name);
      const record: DatasetVersionRecord = {
        namespace: output.namespace,
        name: output.name,
        version: versions.get(id) ?? outputVersionId(runId, id),
        createdAt: event.eventTime,
        createdByRunId: runId,
        fields: schemaFields(output) ?? [],
        facets: { ...output.facets, ...output.outputFacets },
      };
      const lifecycle = output.known.lifecycleStateChange?.lifecycleStateChange;
      if (lifecycle !== undefined) record.lifecycleState = lifecycle;
      return record;
    });
    await store.putDatasetVersions(records);
  }
}

/** The use case's signature, for handlers and tests. */
export type IngestLineageEvent = ReturnType<typeof makeIngestLineageEvent>;
