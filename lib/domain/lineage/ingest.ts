import {
  dataKitIdentityOf,
  dataKitRunProducer,
  datasetUpdatedDetailSchema,
} from '../../contracts/events/lineage.js';
import type { NormalizedDataset, NormalizedLineageEvent } from '../../contracts/openlineage/parse.js';
import type { Problem } from '../../contracts/problem.js';
import type { DomainEvent, EventPublisher } from '../../ports/event-publisher.js';
import type {
  DatasetWrite,
  LineageSnapshot,
  LineageWriter,
  OversizedRecord,
  StoredDataset,
  StoredJob,
  StoredRun,
} from '../../ports/lineage-store.js';
import { DependencyUnavailableError, ValidationError } from '../errors.js';
import { deterministicUuid, lineageEventId } from './event-id.js';
import {
  columnLineageOf,
  datasetEventVersionId,
  equal,
  foldDataset,
  foldJob,
  foldRun,
  ownsRun,
  refOf,
  versionRecordOf,
  withJobVersion,
} from './folds.js';
import type { Edge } from './graph.js';
import { jobIoEdges } from './job-io.js';
import type {
  ColumnLineageRecord,
  DatasetRecord,
  DatasetVersionRecord,
  JobRecord,
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

/** Stable code of an event whose records would not fit in the store (400). */
export const LINEAGE_RECORD_TOO_LARGE = 'LINEAGE_RECORD_TOO_LARGE';

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

const CONFLICT = Symbol('conflict');

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

/**
 * Awaits every promise, then rethrows the first failure: an ingestion that fails returns only once its
 * writes in flight have landed or failed, never leaving writes running behind its answer.
 */
async function settled(promises: readonly Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failure = results.find((result) => result.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
}

/** Writes of one step of an ingestion in flight at once (an event names up to 1000 datasets). */
const maxWritesInFlight = 16;

/** `write` for every item, at most `maxWritesInFlight` at a time; after a failure, starts no more. */
async function writeEach<T>(items: readonly T[], write: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    for (let index = next++; !failed && index < items.length; index = next++) {
      const item = items[index];
      if (item === undefined) continue;
      try {
        await write(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await settled(Array.from({ length: Math.min(maxWritesInFlight, items.length) }, worker));
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

type JobChange = ReturnType<typeof foldJob>;

/** A job as it will be written: its fold, the run stored beside it, whether anything changed. */
interface PlannedJob {
  readonly id: JobNodeId;
  readonly change: JobChange;
  readonly latestRun: RunRecord | undefined;
  readonly changed: boolean;
  /** The edges the job will hold (its current IO), by role. */
  readonly holds: RoleEdges;
  /** The edges its fold added: always listed on their datasets, even when the snapshot shows them there. */
  readonly added: RoleEdges;
}

/** What an ingestion decided before writing anything: what it read, and the records it will write. */
interface IngestionPlan {
  readonly event: NormalizedLineageEvent;
  readonly eventId: string;
  readonly snapshot: LineageSnapshot;
  /**
   * The event's datasets (a DatasetEvent's one), each folded over the snapshot, and the outputs an earlier
   * event of the run declared that this event writes a version of.
   */
  readonly datasets: ReadonlyMap<DatasetNodeId, { dataset: NormalizedDataset; next: DatasetRecord }>;
  /** The version each dataset the event wrote gets, and their records. */
  readonly versions: ReadonlyMap<DatasetNodeId, WrittenVersion>;
  readonly versionRecords: readonly DatasetVersionRecord[];
  readonly run?: {
    readonly record: RunRecord;
    readonly changed: boolean;
    readonly parent?: string;
    /** Whether the event's job owns the run (it named the run first); else it changes the job like a JobEvent. */
    readonly owned: boolean;
  };
  readonly job?: PlannedJob;
  readonly lineage: readonly { record: ColumnLineageRecord; inputs: DatasetFieldNodeId[] }[];
}

/** A dataset version an event writes: its id and, for a run's write, the run and its output facets. */
interface WrittenVersion {
  readonly version: string;
  readonly writer?: { readonly runId: string; readonly outputFacets: Record<string, unknown> };
}

/** A dataset no field of the event names (an output an earlier event of the run declared): facets unchanged. */
function declaredEarlier(ref: { namespace: string; name: string }): NormalizedDataset {
  return { namespace: ref.namespace, name: ref.name, facets: {}, known: {} };
}

/** Where in the event a record refused for its size comes from, for the problem's path. */
function pathOf(event: NormalizedLineageEvent, record: OversizedRecord): string {
  if (record.kind === 'run' || record.kind === 'job') return record.kind;
  const named = (dataset: { namespace: string; name: string }) =>
    datasetNodeId(dataset.namespace, dataset.name) === record.id;
  if (record.kind === 'field') {
    for (const [index, output] of event.outputs.entries()) {
      for (const field of Object.keys(output.known.columnLineage?.fields ?? {})) {
        if (datasetFieldNodeId(output.namespace, output.name, field) === record.id) {
          return `outputs[${index}].facets.columnLineage.fields.${field}`;
        }
      }
    }
  }
  const output = event.outputs.findIndex(named);
  if (output >= 0) return `outputs[${output}]`;
  const input = event.inputs.findIndex(named);
  if (input >= 0) return `inputs[${input}]`;
  return 'dataset';
}

const whatGrows: Readonly<Record<OversizedRecord['kind'], string>> = {
  run: 'the datasets it read and wrote across its events, their facets dropped',
  job: 'its current inputs and outputs and its latest run, facets dropped',
  dataset: 'its schema fields and descriptions, facets dropped',
  version: 'its schema fields, facets dropped',
  field: 'the input fields of its column lineage',
};

function recordsTooLarge(
  event: NormalizedLineageEvent,
  records: readonly OversizedRecord[],
): ValidationError {
  const problems: Problem[] = records.map((record) => ({
    code: LINEAGE_RECORD_TOO_LARGE,
    path: pathOf(event, record),
    message: `The ${record.kind} ${record.id} would take ${record.bytes} bytes (${whatGrows[record.kind]}); at most ${record.limit} fit in one record`,
  }));
  const fields = problems.map((problem) => problem.path).join(', ');
  return new ValidationError(
    LINEAGE_RECORD_TOO_LARGE,
    `The lineage event was refused: records it produces would not fit in storage (${fields}).`,
    { problems },
  );
}

function withoutRun(job: JobRecord): JobRecord {
  const { latestRunId: _latestRunId, io, ...rest } = job;
  return { ...rest, io: { current: io.current } };
}

/**
 * The ingestion of OpenLineage events: each event is first planned — its records read in one round trip,
 * folded, and checked against the store's limits, with nothing written — and then applied. Writes go in
 * an order that keeps every item a reader can reach whole and every reference it can follow resolvable,
 * whatever point a crash stops them at, and a replay of the event completes what a crash left undone
 * (docs/adr/0005-lineage-storage.md, "Write order").
 */
function lineageIngestion(deps: IngestDependencies) {
  const maxAttempts = deps.maxAttempts ?? 8;
  const { store } = deps;

  /** Reads what the event touches, folds it, refuses records that would not fit: writes nothing. */
  async function plan(event: NormalizedLineageEvent): Promise<IngestionPlan> {
    const eventId = lineageEventId(event.raw);
    const named =
      event.kind === 'dataset'
        ? event.dataset === undefined
          ? []
          : [event.dataset]
        : [...event.inputs, ...event.outputs];
    const byId = new Map<DatasetNodeId, NormalizedDataset>();
    for (const dataset of named) byId.set(datasetNodeId(dataset.namespace, dataset.name), dataset);
    const job = event.kind === 'dataset' ? undefined : event.job;
    const jobId = job === undefined ? undefined : jobNodeId(job.namespace, job.name);
    const lineage =
      jobId === undefined ? [] : event.outputs.flatMap((output) => columnLineageOf(output, event.eventTime));
    const runId = jobId === undefined ? undefined : event.run?.runId;
    const snapshot = await store.snapshot({
      ...(runId === undefined ? {} : { runId }),
      ...(jobId === undefined ? {} : { jobId }),
      datasetIds: [...byId.keys()],
      fieldIds: lineage.map(({ record }) =>
        datasetFieldNodeId(record.namespace, record.dataset, record.field),
      ),
    });

    let run: IngestionPlan['run'];
    let record =
      runId === undefined ? undefined : foldRun(snapshot.run?.run, event, inputVersionOf(snapshot));

    let plannedJob: PlannedJob | undefined;
    if (job !== undefined && jobId !== undefined) {
      const current = snapshot.job;
      const owned = record !== undefined && ownsRun(job, record);
      const change = foldJob(current?.job, event, owned ? record : undefined);
      if (record !== undefined && owned) record = withJobVersion(record, change.job);
      const latestRun =
        record !== undefined && owned && change.job.latestRunId === record.runId
          ? record
          : current?.latestRun;
      const changed =
        current === undefined || !equal(current.job, change.job) || !equal(current.latestRun, latestRun);
      plannedJob = {
        id: jobId,
        change,
        latestRun,
        changed,
        holds: roleEdges(jobIoEdges(change.job, change.job.io.current)),
        added: roleEdges(change.added),
      };
      if (record !== undefined) {
        const changedRun = snapshot.run === undefined || !equal(snapshot.run.run, record);
        const parent = event.run?.known.parent?.run.runId;
        run = { record, changed: changedRun, owned, ...(parent === undefined ? {} : { parent }) };
      }
    }

    // Versions: a DatasetEvent declares one; a COMPLETE run writes one of every output it declared, in this
    // event or an earlier one; a streaming job's run, which may never complete, at every event.
    const versions = new Map<DatasetNodeId, WrittenVersion>();
    const refs = new Map<DatasetNodeId, { namespace: string; name: string }>();
    if (event.kind === 'dataset' && event.dataset !== undefined) {
      const id = datasetNodeId(event.dataset.namespace, event.dataset.name);
      versions.set(id, { version: datasetEventVersionId(event.dataset) });
    } else if (
      run !== undefined &&
      (event.eventType === 'COMPLETE' || plannedJob?.change.job.type === 'STREAM')
    ) {
      for (const output of run.record.outputVersions) {
        const id = datasetNodeId(output.namespace, output.name);
        refs.set(id, refOf(output));
        versions.set(id, {
          version: output.version,
          writer: { runId: run.record.runId, outputFacets: output.facets },
        });
      }
    }
    const earlier = [...versions.keys()].filter((id) => !byId.has(id));
    const declared =
      earlier.length === 0 ? undefined : (await store.snapshot({ datasetIds: earlier })).datasets;
    const stored = (id: DatasetNodeId) => snapshot.datasets.get(id) ?? declared?.get(id);

    const datasets = new Map<DatasetNodeId, { dataset: NormalizedDataset; next: DatasetRecord }>();
    const folding: [DatasetNodeId, NormalizedDataset][] = [
      ...byId,
      ...earlier.flatMap((id): [DatasetNodeId, NormalizedDataset][] => {
        const ref = refs.get(id);
        return ref === undefined ? [] : [[id, declaredEarlier(ref)]];
      }),
    ];
    for (const [id, dataset] of folding) {
      const version = versions.get(id);
      datasets.set(id, {
        dataset,
        next: foldDataset(
          stored(id)?.dataset,
          dataset,
          event,
          version === undefined ? undefined : { version: version.version },
        ),
      });
    }
    const versionRecords = [...versions].flatMap(([id, version]) => {
      const folded = datasets.get(id)?.next;
      return folded === undefined
        ? []
        : [versionRecordOf(folded, version.version, event.eventTime, version.writer)];
    });
    const baseline = (id: DatasetNodeId) => stored(id)?.dataset;

    const oversized = store.oversized({
      ...(run?.changed === true ? { run: run.record } : {}),
      ...(plannedJob?.changed === true
        ? { job: { job: plannedJob.change.job, latestRun: plannedJob.latestRun } }
        : {}),
      datasets: [...datasets].flatMap(([id, { next }]) => (baseline(id) === next ? [] : [next])),
      versions: versionRecords,
      fields: lineage,
    });
    if (oversized.length > 0) throw recordsTooLarge(event, oversized);

    return {
      event,
      eventId,
      snapshot:
        declared === undefined
          ? snapshot
          : { ...snapshot, datasets: new Map([...snapshot.datasets, ...declared]) },
      datasets,
      versions,
      versionRecords,
      ...(run === undefined ? {} : { run }),
      ...(plannedJob === undefined ? {} : { job: plannedJob }),
      lineage,
    };
  }

  /** The version a run read of each input: the dataset's current one, or a stable placeholder. */
  function inputVersionOf(snapshot: LineageSnapshot) {
    return (id: DatasetNodeId) =>
      snapshot.datasets.get(id)?.dataset.currentVersion ?? deterministicUuid('unversioned', id);
  }

  /**
   * Writes a plan. Order (ADR 0005, "Write order"): the raw event; the dataset versions and the datasets
   * — listing the job on them before the job names them; a job seen for the first time, then the run, then
   * the job with its run; column lineage with its input fields listing it first; then what follows a
   * retraction (edges the job dropped) and `DataSet Updated`.
   */
  async function apply(plan: IngestionPlan): Promise<IngestOutcome> {
    const { event, eventId } = plan;
    const stored = await store.putRawEvent({
      eventId,
      eventTime: event.eventTime,
      receivedAt: deps.clock().toISOString(),
      json: JSON.stringify(event.raw),
      kind: event.kind,
      ...(event.eventType === undefined ? {} : { eventType: event.eventType }),
    });
    const namespaces = unique([
      ...(event.job === undefined ? [] : [event.job.namespace]),
      ...[...plan.datasets.values()].map(({ dataset }) => dataset.namespace),
    ]);
    const tags = [
      ...(plan.job?.change.job.tags ?? []),
      ...[...plan.datasets.values()].flatMap(({ next }) => [
        ...next.tags,
        ...next.fields.flatMap((field) => field.tags),
      ]),
    ];
    await Promise.all([
      store.ensureNamespaces(
        namespaces.map((name) => ({
          name,
          createdAt: event.eventTime,
          updatedAt: event.eventTime,
          ownerName: 'anonymous',
        })),
      ),
      tags.length === 0 ? Promise.resolve() : store.ensureTags(tags, event.eventTime),
    ]);

    // Versions go before the datasets naming them (each counted with its dataset's write), and before the
    // run: a replay whose run fold changed nothing wrote them. Without a run (a DatasetEvent) they are due
    // while a dataset changes.
    const changing = [...plan.datasets].some(
      ([id, { next }]) => plan.snapshot.datasets.get(id)?.dataset !== next,
    );
    const versionsDue =
      plan.versions.size > 0 && (stored || (plan.run === undefined ? changing : plan.run.changed));
    const created = versionsDue
      ? await store.putDatasetVersions(plan.versionRecords)
      : new Set<DatasetNodeId>();
    await writeDatasets(plan, created);
    const job = plan.job;
    if (job === undefined) return { eventId, replay: !stored, published: 0 };
    await settled([writeRunAndJob(plan, job), writeColumnLineage(plan)]);

    let published = 0;
    const runId = plan.run?.record.runId;
    // A DataKit run announces its outputs itself (its Complete step); other producers' COMPLETEs are
    // announced here: every output the run wrote a version of, also those declared only on an earlier event.
    const written = plan.versionRecords;
    if (
      event.eventType === 'COMPLETE' &&
      runId !== undefined &&
      written.length > 0 &&
      event.producer !== dataKitRunProducer
    ) {
      const updates: DomainEvent[] = written.map((output) => {
        const id = datasetNodeId(output.namespace, output.name);
        const dataKit = dataKitIdentityOf(symlinksOf(plan.datasets.get(id)?.next.facets));
        const parentRunId = event.run?.known.parent?.run.runId;
        const detail = datasetUpdatedDetailSchema.parse({
          dataset: refOf(output),
          version: output.version,
          runId,
          job: refOf(job.change.job),
          eventTime: event.eventTime,
          producer: event.producer,
          lineageEventId: eventId,
          ...(dataKit === undefined
            ? {}
            : { cell: dataKit.cell, datakit: { namespace: dataKit.namespace, name: dataKit.name } }),
          ...(parentRunId === undefined ? {} : { parentRunId: parentRunId.toLowerCase() }),
        });
        return { detailType: 'DataSet Updated', detail, resources: [id], time: new Date(event.eventTime) };
      });
      await deps.events.publish(updates);
      published = updates.length;
    }
    return { eventId, replay: !stored, published };
  }

  /**
   * Writes each dataset's record when it changed, and lists the job on it when the job is about to hold the
   * edge and the dataset does not list it yet (or the job's fold added the edge: a concurrent event of the
   * job may be removing it). Listing before holding means a dataset's sets may name a job that does not
   * (yet, or any longer) hold the edge — readers confirm each entry against the job — but a job never holds
   * an edge its dataset does not list.
   */
  async function writeDatasets(
    plan: IngestionPlan,
    createdVersions: ReadonlySet<DatasetNodeId>,
  ): Promise<void> {
    const { event, snapshot, job } = plan;
    await writeEach([...plan.datasets], ([id, planned]) => {
      const version = plan.versions.get(id);
      return withConflictRetries(maxAttempts, async (fresh) => {
        const current: StoredDataset | undefined = fresh
          ? (await store.snapshot({ datasetIds: [id] })).datasets.get(id)
          : snapshot.datasets.get(id);
        const next = fresh
          ? foldDataset(
              current?.dataset,
              planned.dataset,
              event,
              version === undefined ? undefined : { version: version.version },
            )
          : planned.next;
        const changed = current === undefined || next !== current.dataset;
        const list = (role: keyof RoleEdges, listed: ReadonlySet<JobNodeId> | undefined) =>
          job?.holds[role].has(id) === true && (listed?.has(job.id) !== true || job.added[role].has(id))
            ? [job.id]
            : [];
        const addWriters = list('writers', current?.writers);
        const addReaders = list('readers', current?.readers);
        const addVersions = createdVersions.has(id) ? 1 : 0;
        if (!changed && addWriters.length + addReaders.length + addVersions === 0) return true;
        const written = await store.writeDataset(id, {
          ...(changed ? { dataset: next } : {}),
          expectedRevision: current?.revision ?? 0,
          addWriters,
          addReaders,
          addVersions,
        });
        return written ? true : CONFLICT;
      });
    });
  }

  /**
   * The run names its job and the job embeds its run, so: a job seen for the first time is written
   * without the run, then the run, then the job with it. A refold after a conflict may make the job hold
   * edges the datasets were not told about: they are listed first. Once the job is written, the edges its
   * fold added are listed again (a concurrent removal may have undone ours) and those it dropped removed.
   */
  async function writeRunAndJob(plan: IngestionPlan, job: PlannedJob): Promise<void> {
    const { event, snapshot } = plan;
    let jobRevision = snapshot.job?.revision ?? 0;
    if (plan.run !== undefined && snapshot.job === undefined) {
      if (await store.writeJob(withoutRun(job.change.job), undefined, 0)) jobRevision = 1;
    }
    const written = plan.run === undefined ? undefined : await writeRun(plan, plan.run);
    const run = written?.record;
    const owner = event.job;
    // The run as written differs from the plan's when a concurrent event of the run won first, and may then
    // even belong to another job (one that named the run id first): the job is folded again.
    const replanned = plan.run !== undefined && run !== plan.run.record;
    // A run this ingestion stored first is counted on its job (its owner: the job that named it first).
    const addRuns = written?.created === true ? 1 : 0;

    const listed = { readers: new Set(job.holds.readers), writers: new Set(job.holds.writers) };
    let refolded = false;
    const final = await withConflictRetries(maxAttempts, async (retry) => {
      const fresh = retry || replanned;
      refolded = fresh;
      let current: StoredJob | undefined = snapshot.job;
      let planned: Pick<PlannedJob, 'change' | 'latestRun' | 'changed'> = job;
      if (fresh) {
        // The run as stored holds every event applied so far (each event writes the run before its job),
        // so the job never embeds an older copy of its run than the run's own item.
        const read = await store.snapshot({
          jobId: job.id,
          ...(run === undefined ? {} : { runId: run.runId }),
        });
        current = read.job;
        const latest = read.run?.run ?? run;
        const owned =
          latest !== undefined && owner !== undefined && ownsRun(owner, latest) ? latest : undefined;
        const change = foldJob(current?.job, event, owned);
        const latestRun =
          owned !== undefined && change.job.latestRunId === owned.runId ? owned : current?.latestRun;
        const changed =
          current === undefined || !equal(current.job, change.job) || !equal(current.latestRun, latestRun);
        planned = { change, latestRun, changed };
        await listEdges(job.id, roleEdges(change.added), listed);
      }
      if (!planned.changed && addRuns === 0) return planned.change;
      const expected = fresh ? (current?.revision ?? 0) : jobRevision;
      return (await store.writeJob(planned.change.job, planned.latestRun, expected, addRuns))
        ? planned.change
        : CONFLICT;
    });
    // Only a job that existed can have had an event removing its edges in flight.
    const raced = snapshot.job !== undefined || refolded;
    await settled([
      raced ? listEdges(job.id, roleEdges(final.added)) : Promise.resolve(),
      removeEdges(job.id, final.removed),
      run !== undefined && owner !== undefined && !ownsRun(owner, run)
        ? refreshOwnerRun(run.runId)
        : Promise.resolve(),
    ]);
  }

  /**
   * An event of another job reusing a run id changed the run: the job owning it embeds its latest run, so
   * that copy is brought up to date — every read of the run (the run, its job, the job's runs) then agrees.
   */
  async function refreshOwnerRun(runId: string): Promise<void> {
    await withConflictRetries(maxAttempts, async () => {
      const read = await store.snapshot({ runId });
      const run = read.run?.run;
      if (run === undefined) return true;
      const ownerId = jobNodeId(run.namespace, run.jobName);
      const owner = (await store.snapshot({ jobId: ownerId })).job;
      if (owner === undefined || owner.job.latestRunId !== run.runId || equal(owner.latestRun, run))
        return true;
      const job =
        run.jobVersion === undefined || owner.job.currentVersion === run.jobVersion
          ? owner.job
          : { ...owner.job, currentVersion: run.jobVersion };
      return (await store.writeJob(job, run, owner.revision)) ? true : CONFLICT;
    });
  }

  /** Adds the job to the sets of the datasets in `edges`, skipping those in `done` (and recording them). */
  async function listEdges(
    jobId: JobNodeId,
    edges: RoleEdges,
    done?: { readers: Set<DatasetNodeId>; writers: Set<DatasetNodeId> },
  ): Promise<void> {
    const pending = (role: keyof RoleEdges) => [...edges[role]].filter((id) => done?.[role].has(id) !== true);
    const readers = pending('readers');
    const writers = pending('writers');
    for (const id of readers) done?.readers.add(id);
    for (const id of writers) done?.writers.add(id);
    const writes: { id: DatasetNodeId; write: DatasetWrite }[] = [
      ...readers.map((id) => ({ id, write: { expectedRevision: 0, addReaders: [jobId] } })),
      ...writers.map((id) => ({ id, write: { expectedRevision: 0, addWriters: [jobId] } })),
    ];
    await writeEach(writes, ({ id, write }) => store.writeDataset(id, write));
  }

  /** Writes the run (refolded over the stored one after a conflict); `created` when this write stored it first. */
  async function writeRun(
    plan: IngestionPlan,
    planned: NonNullable<IngestionPlan['run']>,
  ): Promise<{ record: RunRecord; created: boolean }> {
    const { event, snapshot } = plan;
    const runId = planned.record.runId;
    return withConflictRetries(maxAttempts, async (fresh) => {
      let current: StoredRun | undefined = snapshot.run;
      let next = planned.record;
      let changed = planned.changed;
      if (fresh) {
        current = (await store.snapshot({ runId })).run;
        const folded = foldRun(current?.run, event, inputVersionOf(snapshot));
        if (folded === undefined) throw new Error('run event without run');
        const job = plan.job?.change.job;
        next =
          job !== undefined && event.job !== undefined && ownsRun(event.job, folded)
            ? withJobVersion(folded, job)
            : folded;
        changed = current === undefined || !equal(current.run, next);
      }
      if (!changed) return { record: next, created: false };
      const expected = current?.revision ?? 0;
      return (await store.writeRun(next, expected, planned.parent))
        ? { record: next, created: expected === 0 }
        : CONFLICT;
    });
  }

  /**
   * Deletes the job from the edge sets of datasets it stopped reading or writing — after the job stopped
   * holding them — then reads the job again: a concurrent event of the same job may have restored an edge
   * after our fold and listed it before our delete landed, so an edge the job holds again is added back.
   */
  async function removeEdges(jobId: JobNodeId, removed: readonly Edge[]): Promise<void> {
    const edges = roleEdges(removed);
    if (edges.readers.size + edges.writers.size === 0) return;
    await writeEach(
      [
        ...[...edges.readers].map((id) => ({ id, edges: { readers: [jobId] } })),
        ...[...edges.writers].map((id) => ({ id, edges: { writers: [jobId] } })),
      ],
      ({ id, edges: removed }) => store.removeDatasetEdges(id, removed),
    );
    const job = (await store.snapshot({ jobId })).job?.job;
    if (job === undefined) return;
    const held = roleEdges(jobIoEdges(job, job.io.current));
    await listEdges(jobId, {
      readers: new Set([...edges.readers].filter((id) => held.readers.has(id))),
      writers: new Set([...edges.writers].filter((id) => held.writers.has(id))),
    });
  }

  /**
   * Column lineage: the input fields list the field as a consumer before its record names them; consumers
   * it no longer names are removed after; its dataset lists it among its lineage fields last.
   */
  async function writeColumnLineage(plan: IngestionPlan): Promise<void> {
    const { snapshot } = plan;
    // Fields holding a record once this is done (written now, before, or later-dated by another event):
    // each is listed on its dataset, also when a crash came between its record and that listing.
    const recorded: ColumnLineageRecord[] = [];
    await writeEach(plan.lineage, async ({ record, inputs }) => {
      const id = datasetFieldNodeId(record.namespace, record.dataset, record.field);
      const current = snapshot.fields.get(id);
      const previous = current?.inputs ?? [];
      const unchanged =
        current?.record !== undefined &&
        equal({ ...current.record, updatedAt: '' }, { ...record, updatedAt: '' }) &&
        inputs.every((input) => previous.includes(input));
      if (unchanged) {
        recorded.push(record);
        return;
      }
      await store.updateFieldConsumers(id, { add: inputs, remove: [] });
      const written = await store.writeColumnLineage(record, inputs);
      recorded.push(record);
      if (!written) return;
      const stale = previous.filter((input) => !inputs.includes(input));
      if (stale.length > 0) await store.updateFieldConsumers(id, { add: [], remove: stale });
    });
    const fieldsByDataset = new Map<DatasetNodeId, string[]>();
    for (const record of recorded) {
      const id = datasetNodeId(record.namespace, record.dataset);
      if (snapshot.datasets.get(id)?.lineageFields.has(record.field) === true) continue;
      fieldsByDataset.set(id, [...(fieldsByDataset.get(id) ?? []), record.field]);
    }
    await writeEach([...fieldsByDataset], ([id, fields]) =>
      store.writeDataset(id, { expectedRevision: 0, addLineageFields: fields }),
    );
  }

  return { plan, apply };
}

/**
 * `POST /api/v1/lineage`: plans the event (one read; refused with 400 `LINEAGE_RECORD_TOO_LARGE`, nothing
 * written, when a record it produces would not fit in storage), then stores the raw event (the replayable
 * source of truth) and folds it into runs, jobs, datasets, dataset versions, column lineage and the
 * producer/consumer edges, and publishes `DataSet Updated` for every output of a `COMPLETE` event. Every
 * fold is idempotent and order-tolerant and skips writes that would change nothing, so a replay writes
 * nothing but the (refused) raw put — and completes an ingestion a crash interrupted; concurrent events of
 * one job or dataset retry on optimistic-locking conflicts.
 */
export function makeIngestLineageEvent(deps: IngestDependencies) {
  const { plan, apply } = lineageIngestion(deps);
  return async function ingestLineageEvent(event: NormalizedLineageEvent): Promise<IngestOutcome> {
    return apply(await plan(event));
  };
}

/** The use case's signature, for handlers and tests. */
export type IngestLineageEvent = ReturnType<typeof makeIngestLineageEvent>;

/** Events of one batch planned or ingested at once. */
const batchConcurrency = 4;

async function inChunks<T, R>(
  items: readonly T[],
  each: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += batchConcurrency) {
    const chunk = items.slice(start, start + batchConcurrency);
    results.push(...(await Promise.all(chunk.map((item, offset) => each(item, start + offset)))));
  }
  return results;
}

/**
 * `POST /api/v1/lineage/batch`: plans every event first, so a batch with an event whose records would not
 * fit is refused whole (problems prefixed with the event's `[index]`), then ingests them a few at a time,
 * each planned again against what the events before it wrote. Events of one run in one batch may still
 * grow its records past the limit together: the event that does is refused then, after those before it.
 */
export function makeIngestLineageBatch(deps: IngestDependencies) {
  const { plan, apply } = lineageIngestion(deps);
  return async function ingestLineageBatch(
    events: readonly NormalizedLineageEvent[],
  ): Promise<IngestOutcome[]> {
    const refusals = await inChunks(events, async (event, index) => {
      try {
        await plan(event);
        return [];
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        return error.problems.map((problem) => ({
          ...problem,
          path: `[${index}]${problem.path === undefined ? '' : `.${problem.path}`}`,
        }));
      }
    });
    const problems = refusals.flat();
    const first = problems[0];
    if (first !== undefined) {
      throw new ValidationError(
        first.code,
        `The lineage batch was refused: ${problems.map((problem) => problem.path).join(', ')}.`,
        { problems },
      );
    }
    return inChunks(events, async (event) => apply(await plan(event)));
  };
}

/** The batch use case's signature. */
export type IngestLineageBatch = ReturnType<typeof makeIngestLineageBatch>;

/**
 * The symlinks facet's identifiers among a dataset's merged facets (an output declared only on START
 * carries its DataKit identity from that event).
 */
function symlinksOf(
  facets: Readonly<Record<string, unknown>> | undefined,
): { readonly namespace: string; readonly name: string }[] {
  const symlinks = facets?.symlinks;
  if (typeof symlinks !== 'object' || symlinks === null || !('identifiers' in symlinks)) return [];
  const { identifiers } = symlinks;
  if (!Array.isArray(identifiers)) return [];
  return identifiers.flatMap((identifier: unknown) =>
    typeof identifier === 'object' &&
    identifier !== null &&
    'namespace' in identifier &&
    'name' in identifier &&
    typeof identifier.namespace === 'string' &&
    typeof identifier.name === 'string'
      ? [{ namespace: identifier.namespace, name: identifier.name }]
      : [],
  );
}
