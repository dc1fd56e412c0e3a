// The stored shapes of the lineage capability. The storage adapter persists these records as they are and
// the Marquez mappers read them; timestamps are UTC ISO strings with milliseconds (as `parseLineageEvent`
// normalises them), so comparing two of them as strings compares the instants.

/** Marquez run states. */
export type RunStateName = 'NEW' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'ABORTED';

/** Marquez job types (from the jobType facet's processingType; BATCH unless told otherwise). */
export type JobType = 'BATCH' | 'STREAM' | 'SERVICE';

/** Marquez dataset types. */
export type DatasetType = 'DB_TABLE' | 'STREAM';

/** Identity of a dataset. */
export interface DatasetRef {
  namespace: string;
  name: string;
}

/** A namespace, created on first sight of a job or dataset in it. */
export interface NamespaceRecord {
  name: string;
  createdAt: string;
  updatedAt: string;
  ownerName: string;
  description?: string;
}

/** The lifecycle of one run, folded from its events in any arrival order (see `run-state.ts`). */
export interface RunState {
  state: RunStateName;
  /** Earliest eventTime seen for the run. */
  createdAt: string;
  /** Latest eventTime seen for the run. */
  updatedAt: string;
  /** Earliest START eventTime. */
  startedAt?: string;
  /** eventTime of the terminal event that decided the state. */
  endedAt?: string;
  /** The terminal event that decided the state, kept so a later-dated terminal event can supersede it. */
  terminalEvent?: 'COMPLETE' | 'FAIL' | 'ABORT';
  /** Run facets merged over all events, the most recent eventTime winning per facet. */
  facets: Record<string, unknown>;
  /** eventTime each facet in `facets` was taken from. */
  facetTimes: Record<string, string>;
}

/** A dataset version a run read or wrote, with the run-specific facets (`inputFacets`/`outputFacets`). */
export interface RunDatasetVersion {
  namespace: string;
  name: string;
  version: string;
  facets: Record<string, unknown>;
}

/** A run of a job. */
export interface RunRecord extends RunState {
  runId: string;
  namespace: string;
  jobName: string;
  args: Record<string, string>;
  /**
   * Version of the job this run ran, as Marquez computes it: a name-based UUID of the job and the
   * datasets the run read and wrote, set once the run ended (at every event for a streaming job).
   */
  jobVersion?: string;
  /** The job's facets as this run's events sent them (Marquez's job facets of a run). */
  jobFacets?: Record<string, unknown>;
  inputVersions: RunDatasetVersion[];
  outputVersions: RunDatasetVersion[];
}

/** The IO of a job: what its lineage edges currently are, and what its latest run has touched so far. */
export interface JobIoState {
  /** The job's current producer/consumer edges. */
  current: { inputs: DatasetRef[]; outputs: DatasetRef[] };
  /** The latest run (by first eventTime) and the union of its events' IO. */
  latestRun?: {
    runId: string;
    firstEventAt: string;
    terminated: boolean;
    inputs: DatasetRef[];
    outputs: DatasetRef[];
  };
}

/** A job. */
export interface JobRecord {
  namespace: string;
  name: string;
  type: JobType;
  createdAt: string;
  updatedAt: string;
  /** Job facets merged over events. */
  facets: Record<string, unknown>;
  description?: string;
  /** Where the code lives (sourceCodeLocation facet url). */
  location?: string;
  /** Name of the parent job (from the parent run facet), for Marquez's `parentJobName`. */
  parentJobName?: string;
  /** The version of its latest run, once that run ended (Marquez's `currentVersion`). */
  currentVersion?: string;
  latestRunId?: string;
  /** Its latest runs, newest first (by first eventTime), at most `MAX_RECENT_RUNS`. */
  recentRuns?: RecentRun[];
  /** Tags from the producer's tags facet (`facets.tags`). */
  tags?: string[];
  io: JobIoState;
}

/** A run in a job's list of recent runs. */
export interface RecentRun {
  runId: string;
  /** The run's first eventTime: what orders runs. */
  createdAt: string;
}

/** Marquez's `latestRuns` holds a job's 10 latest runs. */
export const MAX_RECENT_RUNS = 10;

/** A column of a dataset, as Marquez lists it. */
export interface DatasetFieldRecord {
  name: string;
  type?: string;
  description?: string;
  tags: string[];
}

/** A dataset. */
export interface DatasetRecord {
  namespace: string;
  name: string;
  type: DatasetType;
  physicalName: string;
  /** The data source (dataSource facet name, else the namespace). */
  sourceName: string;
  createdAt: string;
  updatedAt: string;
  fields: DatasetFieldRecord[];
  /** Tags from the producer's tags facet (`facets.tags` entries without a `field`). */
  tags: string[];
  description?: string;
  /** Its facets merged over events, with the input facets of the runs reading it (Marquez shows both). */
  facets: Record<string, unknown>;
  /** The version its last successful write made (a COMPLETE run, a DatasetEvent, a streaming run). */
  currentVersion?: string;
  /** eventTime of the last successful (COMPLETE) run that wrote it. */
  lastModifiedAt?: string;
  lastLifecycleState?: string;
  deleted?: boolean;
}

/** One version of a dataset, written by a run (or declared by a DatasetEvent). */
export interface DatasetVersionRecord {
  namespace: string;
  name: string;
  version: string;
  createdAt: string;
  createdByRunId?: string;
  fields: DatasetFieldRecord[];
  facets: Record<string, unknown>;
  lifecycleState?: string;
}

/** A field an output column is computed from, with how. */
export interface ColumnLineageInputRecord {
  namespace: string;
  dataset: string;
  field: string;
  transformationDescription?: string;
  transformationType?: string;
}

/** The current column lineage of one output field. */
export interface ColumnLineageRecord {
  namespace: string;
  dataset: string;
  field: string;
  fieldType?: string;
  /** Deprecated per-field description from the facet (`fields.<name>.transformationDescription`). */
  transformationDescription?: string;
  /** Deprecated per-field type from the facet (`fields.<name>.transformationType`). */
  transformationType?: string;
  inputFields: ColumnLineageInputRecord[];
  updatedAt: string;
}

/** A Marquez tag. */
export interface TagRecord {
  name: string;
  description?: string;
}
