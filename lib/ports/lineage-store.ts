import type {
  ColumnLineageRecord,
  DatasetRecord,
  DatasetVersionRecord,
  JobRecord,
  NamespaceRecord,
  RunRecord,
} from '../domain/lineage/model.js';
import type { DatasetFieldNodeId, DatasetNodeId, JobNodeId, NodeId } from '../domain/lineage/node-id.js';
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
}

/** A job as stored, with the revision its next write must expect. */
export interface StoredJob {
  job: JobRecord;
  /** The latest run, kept beside the job so a lineage graph needs no extra reads. */
  latestRun?: RunRecord;
  revision: number;
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
  writeRun(run: RunRecord, expectedRevision: number, parentRunId?: string): Promise<boolean>;
  /** Writes a job; the first write of a job also lists it in its namespace and the search index. */
  writeJob(job: JobRecord, latestRun: RunRecord | undefined, expectedRevision: number): Promise<boolean>;
  /** Writes a dataset; the first write of a dataset also lists it in its namespace and the search index. */
  writeDataset(id: DatasetNodeId, write: DatasetWrite): Promise<boolean>;
  /** Drops jobs from a dataset's edge sets (a job stopped reading or writing it). */
  removeDatasetEdges(
    id: DatasetNodeId,
    edges: { writers?: readonly JobNodeId[]; readers?: readonly JobNodeId[] },
  ): Promise<void>;
  putDatasetVersions(versions: readonly DatasetVersionRecord[]): Promise<void>;
  /** Writes a field's column lineage unless a later-dated one is stored; false then. */
  writeColumnLineage(record: ColumnLineageRecord, inputs: readonly DatasetFieldNodeId[]): Promise<boolean>;
  /** Adds and removes `consumer` on the given input fields. */
  updateFieldConsumers(
    consumer: DatasetFieldNodeId,
    change: { add: readonly DatasetFieldNodeId[]; remove: readonly DatasetFieldNodeId[] },
  ): Promise<void>;
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

/** Raw events between two instants, in eventTime order. */
export interface RawEventQuery {
  after: string;
  before: string;
  ascending: boolean;
  limit: number;
  cursor?: string;
}

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
  /** Runs of a job, newest first. */
  listRuns(jobId: JobNodeId, paging: OffsetPaging): Promise<RunRecord[]>;
  /** Runs whose parent run facet names `parentRunId`. */
  listChildRuns(parentRunId: string): Promise<RunRecord[]>;
  /** Index entries whose term starts with `prefix` (at most `limit`). */
  searchTerm(prefix: string, limit: number): Promise<SearchCandidate[]>;
  listRawEvents(query: RawEventQuery): Promise<{ events: unknown[]; nextCursor?: string }>;
}

/** Both sides; one adapter implements them over the single table. */
export interface LineageStore extends LineageWriter, LineageReader {}
