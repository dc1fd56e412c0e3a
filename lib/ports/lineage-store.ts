import type { EventType } from '../contracts/openlineage/events.js';
import type {
  ColumnLineageRecord,
  DatasetRecord,
  DatasetVersionRecord,
  JobRecord,
  NamespaceRecord,
  RunRecord,
  TagRecord,
} from '../domain/lineage/model.js';
import type { DatasetFieldNodeId, DatasetNodeId, JobNodeId, NodeId } from '../domain/lineage/node-id.js';
import type { StatsBucket } from '../domain/lineage/stats.js';
import type { LineageGraphPort } from './lineage-graph.js';

/** An OpenLineage event as received, stored before anything else (the replayable source of truth). */
export interface RawLineageEvent {
  /** SHA-256 of the event's canonical JSON: the same event always has the same id. */
  eventId: string;
  /** UTC ISO eventTime (normalised), the sort key of `GET /api/v1/events/lineage`. */
  eventTime: string;
  receivedAt: string;
  /** The event exactly as the producer sent it, serialised. */
  json: string;
  /** RunEvents are listed (and counted by type) as Marquez lists them; DatasetEvents and JobEvents are kept apart. */
  kind: 'run' | 'dataset' | 'job';
  /** A RunEvent's transition, as read (any case; unknown values are RUNNING). */
  eventType?: EventType;
}

/** A job as stored, with the revision its next write must expect. */
export interface StoredJob {
  job: JobRecord;
  /** The latest run, kept beside the job so a lineage graph needs no extra reads. */
  latestRun?: RunRecord;
  revision: number;
  /** How many runs it owns (counted when each was first stored). */
  runCount: number;
  /** Tags added through the API (`POST …/jobs/{job}/tags/{tag}`). */
  userTags: ReadonlySet<string>;
}

/** A dataset as stored: the record and the producer/consumer edges other jobs maintain on it. */
export interface StoredDataset {
  dataset: DatasetRecord;
  /** Jobs whose current outputs include the dataset. */
  writers: ReadonlySet<JobNodeId>;
  /** Jobs whose current inputs include the dataset. */
  readers: ReadonlySet<JobNodeId>;
  /** Fields that have column lineage (beyond the schema's). */
  lineageFields: ReadonlySet<string>;
  revision: number;
  /** How many versions it has (counted when each was first stored). */
  versionCount: number;
  /** Tags added through the API, on the dataset and by field. */
  userTags: ReadonlySet<string>;
  userFieldTags: ReadonlyMap<string, ReadonlySet<string>>;
}

/** A run as stored. */
export interface StoredRun {
  run: RunRecord;
  revision: number;
}

/** A dataset field of the column-lineage graph. */
export interface StoredField {
  /** Its current column lineage, when some job's output declared it. */
  record?: ColumnLineageRecord;
  /** The fields it is computed from. */
  inputs: readonly DatasetFieldNodeId[];
  /** The fields computed from it. */
  consumers: ReadonlySet<DatasetFieldNodeId>;
}

/** What an ingestion reads in one round trip before it writes. */
export interface LineageSnapshot {
  run?: StoredRun;
  job?: StoredJob;
  datasets: ReadonlyMap<DatasetNodeId, StoredDataset>;
  fields: ReadonlyMap<DatasetFieldNodeId, StoredField>;
}

/** The ids of a `LineageSnapshot` to read. */
export interface SnapshotRequest {
  runId?: string;
  jobId?: JobNodeId;
  datasetIds?: readonly DatasetNodeId[];
  fieldIds?: readonly DatasetFieldNodeId[];
}

/** One write to a dataset node: its record (when it changed) and edges to add. */
export interface DatasetWrite {
  /** The new record; absent when only edges are added (no revision check then: adds are idempotent). */
  dataset?: DatasetRecord;
  expectedRevision: number;
  addWriters?: readonly JobNodeId[];
  addReaders?: readonly JobNodeId[];
  addLineageFields?: readonly string[];
  /** Versions of it this ingestion stored first (counted with the write, no request of their own). */
  addVersions?: number;
}

/** The records one ingestion is about to write, checked against the store's item limit before it writes. */
export interface PlannedRecords {
  readonly run?: RunRecord | undefined;
  /** A job and the latest run stored beside it (one item). */
  readonly job?: { readonly job: JobRecord; readonly latestRun?: RunRecord | undefined } | undefined;
  readonly datasets?: readonly DatasetRecord[];
  readonly versions?: readonly DatasetVersionRecord[];
  readonly fields?: readonly {
    readonly record: ColumnLineageRecord;
    readonly inputs: readonly DatasetFieldNodeId[];
  }[];
}

/** A planned record that would not fit in its item even with its facets dropped. */
export interface OversizedRecord {
  readonly kind: 'run' | 'job' | 'dataset' | 'version' | 'field';
  /** The run id, or the node id of the job, dataset (also for a version) or field. */
  readonly id: string;
  /** UTF-8 bytes the record would take, facets dropped. */
  readonly bytes: number;
  /** UTF-8 bytes a record of this kind may take. */
  readonly limit: number;
}

/**
 * The write side of the lineage store. Record writes are conditional (optimistic locking: they return
 * false when someone else wrote first, and the caller reads again and refolds); edge-set writes are
 * idempotent adds and deletes, so concurrent ingestions never lose each other's edges.
 */
export interface LineageWriter {
  /**
   * The planned records that would not fit in their items, facets dropped (empty when all fit). Pure: an
   * ingestion asks before it writes anything, so an event too large to store is refused whole.
   */
  oversized(planned: PlannedRecords): OversizedRecord[];
  /** Stores the raw event unless an event with its id is stored: `false` for a replay. */
  putRawEvent(event: RawLineageEvent): Promise<boolean>;
  /** Creates the namespaces not seen yet (one conditional write each, remembered per process). */
  ensureNamespaces(namespaces: readonly NamespaceRecord[]): Promise<void>;
  /** Reads the current records of an ingestion in one round trip. */
  snapshot(request: SnapshotRequest): Promise<LineageSnapshot>;
  /** Writes a run (its first write with `expectedRevision` 0); its job counts it (`writeJob`'s `addRuns`). */
  writeRun(run: RunRecord, expectedRevision: number, parentRunId?: string): Promise<boolean>;
  /**
   * Writes a job; the first write of a job also lists it in its namespace and the search index. `addRuns`
   * counts runs of it this ingestion stored first, with the same write.
   */
  writeJob(
    job: JobRecord,
    latestRun: RunRecord | undefined,
    expectedRevision: number,
    addRuns?: number,
  ): Promise<boolean>;
  /** Writes a dataset; the first write of a dataset also lists it in its namespace and the search index. */
  writeDataset(id: DatasetNodeId, write: DatasetWrite): Promise<boolean>;
  /** Drops jobs from a dataset's edge sets (a job stopped reading or writing it). */
  removeDatasetEdges(
    id: DatasetNodeId,
    edges: { writers?: readonly JobNodeId[]; readers?: readonly JobNodeId[] },
  ): Promise<void>;
  /** Stores versions not stored yet (a version is immutable); answers the datasets of those it stored. */
  putDatasetVersions(versions: readonly DatasetVersionRecord[]): Promise<ReadonlySet<DatasetNodeId>>;
  /** Lists the tags not known yet (one conditional write each, remembered per process). */
  ensureTags(names: readonly string[], createdAt: string): Promise<void>;
  /** Writes a field's column lineage unless a later-dated one is stored; false then. */
  writeColumnLineage(record: ColumnLineageRecord, inputs: readonly DatasetFieldNodeId[]): Promise<boolean>;
  /** Adds and removes `consumer` on the given input fields. */
  updateFieldConsumers(
    consumer: DatasetFieldNodeId,
    change: { add: readonly DatasetFieldNodeId[]; remove: readonly DatasetFieldNodeId[] },
  ): Promise<void>;
}

/** What a tag route changes: a tag on a job, a dataset, or one field of a dataset. */
export type TagTarget =
  | { kind: 'job'; id: JobNodeId }
  | { kind: 'dataset'; id: DatasetNodeId }
  | { kind: 'field'; id: DatasetNodeId; field: string };

/** The writes of Marquez's tag routes. */
export interface TagWriter {
  /** Creates a tag, or sets the description of an existing one; answers the tag as stored. */
  putTag(tag: TagRecord): Promise<TagRecord>;
  /** Adds (or removes) a tag added through the API; false when the job or dataset does not exist. */
  tag(target: TagTarget, tag: string, add: boolean): Promise<boolean>;
}

/** A page of a list with Marquez's `totalCount`. */
export interface CountedPage<T> {
  items: T[];
  totalCount: number;
}

/** Paging as Marquez does it. */
export interface OffsetPaging {
  limit: number;
  offset: number;
}

/** A lineage graph walk that remembers the records of the nodes it fetched. */
export interface LineageGraphSession extends LineageGraphPort {
  /** Jobs, datasets and fields fetched so far, plus any of `ids` not fetched yet (one more BatchGet). */
  records(ids: readonly NodeId[]): Promise<{
    jobs: ReadonlyMap<JobNodeId, StoredJob>;
    datasets: ReadonlyMap<DatasetNodeId, StoredDataset>;
    fields: ReadonlyMap<DatasetFieldNodeId, StoredField>;
  }>;
  /** Node items fetched so far: what bounds the cost of a query. */
  readonly fetched: number;
}

/** A search index entry. */
export type SearchCandidate =
  | { kind: 'job'; nodeId: JobNodeId; namespace: string; name: string }
  | { kind: 'dataset'; nodeId: DatasetNodeId; namespace: string; name: string };

/** RunEvents between two instants (inclusive), in eventTime order. */
export interface RawEventQuery {
  after: string;
  before: string;
  ascending: boolean;
  limit: number;
  /** Events skipped first (Marquez's paging), at most 10 000. */
  offset: number;
  cursor?: string;
}

/** A statistics series: RunEvents by type, or the creations of jobs, datasets and sources. */
export type StatsSeries = 'EVENTS' | 'JOBS' | 'DATASETS' | 'SOURCES';

/** The read side of the lineage store. */
export interface LineageReader {
  graph(): LineageGraphSession;
  getNamespace(
    name: string,
  ): Promise<(NamespaceRecord & { jobCount: number; datasetCount: number }) | undefined>;
  listNamespaces(paging: OffsetPaging): Promise<NamespaceRecord[]>;
  getJob(id: JobNodeId): Promise<StoredJob | undefined>;
  listJobs(namespace: string, paging: OffsetPaging): Promise<CountedPage<StoredJob>>;
  getDataset(id: DatasetNodeId): Promise<StoredDataset | undefined>;
  listDatasets(namespace: string, paging: OffsetPaging): Promise<CountedPage<StoredDataset>>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  /** Several runs at once (a job's latest runs, the runs that wrote versions); absent ones are left out. */
  getRuns(runIds: readonly string[]): Promise<ReadonlyMap<string, RunRecord>>;
  /** Jobs of every namespace, by namespace then name, with how many there are. */
  listAllJobs(paging: OffsetPaging): Promise<CountedPage<StoredJob>>;
  /** Versions of a dataset, newest first, with how many it has. */
  listDatasetVersions(id: DatasetNodeId, paging: OffsetPaging): Promise<CountedPage<DatasetVersionRecord>>;
  getDatasetVersion(id: DatasetNodeId, version: string): Promise<DatasetVersionRecord | undefined>;
  /** Tags, by name. */
  listTags(paging: OffsetPaging): Promise<TagRecord[]>;
  /** Counters of a series whose bucket starts in `[from, to]`. */
  statsBuckets(series: StatsSeries, from: string, to: string): Promise<StatsBucket[]>;
  /** How many jobs, datasets and sources there are. */
  statsTotals(): Promise<{ jobs: number; datasets: number; sources: number }>;
  /** RunEvents with an eventTime in `[after, before]`. */
  countRawEvents(after: string, before: string): Promise<number>;
  /** Runs of a job, newest first. */
  listRuns(jobId: JobNodeId, paging: OffsetPaging): Promise<RunRecord[]>;
  /** Runs whose parent run facet names `parentRunId`. */
  listChildRuns(parentRunId: string): Promise<RunRecord[]>;
  /** Index entries whose term starts with `prefix` (at most `limit`). */
  searchTerm(prefix: string, limit: number): Promise<SearchCandidate[]>;
  listRawEvents(query: RawEventQuery): Promise<{ events: unknown[]; nextCursor?: string }>;
}

/** Both sides; one adapter implements them over the single table. */
export interface LineageStore extends LineageWriter, LineageReader, TagWriter {}
