import { jobTypeJobFacetSchema, nominalTimeRunFacetSchema } from '../../contracts/openlineage/facets.js';
import type { ColumnLineageGraph, Edge, LineageGraph } from './graph.js';
import type {
  ColumnLineageRecord,
  DatasetRecord,
  DatasetRef,
  DatasetVersionRecord,
  JobRecord,
  JobType,
  NamespaceRecord,
  RunDatasetVersion,
  RunRecord,
  RunStateName,
} from './model.js';
import {
  type DatasetFieldNodeId,
  type DatasetNodeId,
  datasetNodeId,
  type JobNodeId,
  jobNodeId,
  readNodeId,
} from './node-id.js';
import { runDurationMs } from './run-state.js';
import { mergeTags } from './tags.js';

// These are the JSON bodies of Marquez's read API (openapi `components/schemas`), so the Marquez UI and its
// clients work unchanged. Marquez writes absent values as `null`, not by omitting the key, and so do we.

/** Marquez `Namespace`. */
export interface MarquezNamespace {
  name: string;
  createdAt: string;
  updatedAt: string;
  ownerName: string;
  description: string | null;
  isHidden: boolean;
}

/** Marquez `DatasetVersionId`. */
export interface MarquezDatasetVersionId {
  namespace: string;
  name: string;
  version: string;
}

/** Marquez `InputDatasetVersion` / `OutputDatasetVersion`. */
export interface MarquezRunDatasetVersion {
  datasetVersionId: MarquezDatasetVersionId;
  facets: Record<string, unknown>;
}

/** Marquez `Run`. */
export interface MarquezRun {
  id: string;
  createdAt: string;
  updatedAt: string;
  nominalStartTime: string | null;
  nominalEndTime: string | null;
  state: RunStateName;
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  args: Record<string, string>;
  jobVersion: { namespace: string; name: string; version: string } | null;
  inputDatasetVersions: MarquezRunDatasetVersion[];
  outputDatasetVersions: MarquezRunDatasetVersion[];
  context: Record<string, string>;
  facets: Record<string, unknown>;
}

/** Marquez `Job`. */
export interface MarquezJob {
  id: { namespace: string; name: string };
  type: JobType;
  name: string;
  simpleName: string;
  parentJobName: string | null;
  parentJobUuid: string | null;
  createdAt: string;
  updatedAt: string;
  namespace: string;
  inputs: DatasetRef[];
  outputs: DatasetRef[];
  location: string | null;
  context: Record<string, string>;
  description: string | null;
  latestRun: MarquezRun | null;
  latestRuns: MarquezRun[];
  facets: Record<string, unknown>;
  currentVersion: string | null;
  /** The jobType facet's `jobType` and `integration`, as Marquez lists them. */
  labels: string[];
  tags: string[];
}

/** A column of a Marquez `Dataset`. */
export interface MarquezField {
  name: string;
  type: string | null;
  tags: string[];
  description: string | null;
}

/** An input field of a dataset's `columnLineage`. */
export interface MarquezColumnLineageInputField {
  namespace: string;
  dataset: string;
  field: string;
  transformationDescription: string | null;
  transformationType: string | null;
}

/** One field's column lineage, as a Marquez `Dataset` lists it (`columnLineage`). */
export interface MarquezFieldLineage {
  name: string;
  inputFields: MarquezColumnLineageInputField[];
  transformationDescription: string | null;
  transformationType: string | null;
}

/** Marquez `Dataset`. */
export interface MarquezDataset {
  id: DatasetRef;
  type: DatasetRecord['type'];
  name: string;
  physicalName: string;
  createdAt: string;
  updatedAt: string;
  namespace: string;
  sourceName: string;
  fields: MarquezField[];
  tags: string[];
  lastModifiedAt: string | null;
  lastLifecycleState: string | null;
  description: string | null;
  facets: Record<string, unknown>;
  currentVersion: string | null;
  /** Its fields' column lineage; `null` when none of them has any (as Marquez leaves it unset). */
  columnLineage: MarquezFieldLineage[] | null;
  deleted: boolean;
}

/** Marquez `DatasetVersion`. */
export interface MarquezDatasetVersion {
  id: MarquezDatasetVersionId;
  type: DatasetRecord['type'];
  name: string;
  physicalName: string;
  createdAt: string;
  version: string;
  namespace: string;
  sourceName: string;
  fields: MarquezField[];
  tags: string[];
  lifecycleState: string | null;
  description: string | null;
  createdByRun: MarquezRun | null;
  facets: Record<string, unknown>;
}

/** A node of Marquez's `LineageGraph`. */
export type MarquezLineageNode =
  | { id: JobNodeId; type: 'JOB'; data: MarquezJob; inEdges: Edge[]; outEdges: Edge[] }
  | { id: DatasetNodeId; type: 'DATASET'; data: MarquezDataset; inEdges: Edge[]; outEdges: Edge[] };

/** Marquez `LineageGraph` (`GET /lineage`). */
export interface MarquezLineage {
  graph: MarquezLineageNode[];
}

/** An input field in a column-lineage node's data. */
export interface MarquezColumnInputField {
  namespace: string;
  dataset: string;
  field: string;
  transformationDescription: string | null;
  transformationType: string | null;
}

/** A `DATASET_FIELD` node of Marquez's column-lineage graph. */
export interface MarquezColumnLineageNode {
  id: DatasetFieldNodeId;
  type: 'DATASET_FIELD';
  data: {
    namespace: string;
    dataset: string;
    field: string;
    fieldType: string | null;
    transformationDescription: string | null;
    transformationType: string | null;
    inputFields: MarquezColumnInputField[];
  };
  inEdges: Edge[];
  outEdges: Edge[];
}

/** Marquez's column-lineage graph (`GET /column-lineage`). */
export interface MarquezColumnLineage {
  graph: MarquezColumnLineageNode[];
}

/** Marquez `SearchResult`. */
export interface MarquezSearchResult {
  type: 'DATASET' | 'JOB';
  name: string;
  updatedAt: string;
  namespace: string;
  nodeId: DatasetNodeId | JobNodeId;
}

/** Marquez `SearchResultList`. */
export interface MarquezSearchResults {
  totalCount: number;
  results: MarquezSearchResult[];
}

/** Maps a stored namespace to Marquez's `Namespace`. */
export function toMarquezNamespace(namespace: NamespaceRecord): MarquezNamespace {
  return {
    name: namespace.name,
    createdAt: namespace.createdAt,
    updatedAt: namespace.updatedAt,
    ownerName: namespace.ownerName,
    description: namespace.description ?? null,
    isHidden: false,
  };
}

function toRunDatasetVersion(version: RunDatasetVersion): MarquezRunDatasetVersion {
  return {
    datasetVersionId: { namespace: version.namespace, name: version.name, version: version.version },
    facets: version.facets,
  };
}

/** Maps a stored run to Marquez's `Run`; nominal times come from the run's nominalTime facet. */
export function toMarquezRun(run: RunRecord): MarquezRun {
  const nominal = nominalTimeRunFacetSchema.safeParse(run.facets.nominalTime);
  return {
    id: run.runId,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    nominalStartTime: nominal.success ? nominal.data.nominalStartTime : null,
    nominalEndTime: nominal.success ? (nominal.data.nominalEndTime ?? null) : null,
    state: run.state,
    startedAt: run.startedAt ?? null,
    endedAt: run.endedAt ?? null,
    durationMs: runDurationMs(run) ?? null,
    args: run.args,
    jobVersion:
      run.jobVersion === undefined
        ? null
        : { namespace: run.namespace, name: run.jobName, version: run.jobVersion },
    inputDatasetVersions: run.inputVersions.map(toRunDatasetVersion),
    outputDatasetVersions: run.outputVersions.map(toRunDatasetVersion),
    context: {},
    facets: run.facets,
  };
}

/** The job name without its parent's prefix (`dag.task` → `task`), as Marquez shows child jobs. */
export function simpleJobName(name: string, parentJobName: string | undefined): string {
  const prefix = parentJobName === undefined ? undefined : `${parentJobName}.`;
  return prefix !== undefined && name.startsWith(prefix) && name.length > prefix.length
    ? name.slice(prefix.length)
    : name;
}

/** What a Marquez `Job` shows beyond its record: its latest runs and the tags added through the API. */
export interface JobExtras {
  /** Newest first; by default the latest run alone. */
  readonly latestRuns?: readonly RunRecord[];
  readonly userTags?: Iterable<string>;
}

function labelsOf(job: JobRecord): string[] {
  const facet = jobTypeJobFacetSchema.partial().safeParse(job.facets.jobType);
  if (!facet.success) return [];
  return [facet.data.jobType, facet.data.integration].filter(
    (label): label is string => typeof label === 'string',
  );
}

/** Maps a stored job (and its latest run, when there is one) to Marquez's `Job`. */
export function toMarquezJob(job: JobRecord, latestRun?: RunRecord, extras: JobExtras = {}): MarquezJob {
  const run = latestRun === undefined ? null : toMarquezRun(latestRun);
  const latestRuns = extras.latestRuns?.map(toMarquezRun) ?? (run === null ? [] : [run]);
  return {
    id: { namespace: job.namespace, name: job.name },
    type: job.type,
    name: job.name,
    simpleName: simpleJobName(job.name, job.parentJobName),
    parentJobName: job.parentJobName ?? null,
    parentJobUuid: null,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    namespace: job.namespace,
    inputs: job.io.current.inputs.map((ref) => ({ namespace: ref.namespace, name: ref.name })),
    outputs: job.io.current.outputs.map((ref) => ({ namespace: ref.namespace, name: ref.name })),
    location: job.location ?? null,
    context: {},
    description: job.description ?? null,
    latestRun: run,
    latestRuns,
    facets: job.facets,
    currentVersion: job.currentVersion ?? null,
    labels: labelsOf(job),
    tags: mergeTags(job.tags, extras.userTags),
  };
}

function toMarquezFields(
  fields: DatasetRecord['fields'],
  userFieldTags?: ReadonlyMap<string, Iterable<string>>,
): MarquezField[] {
  return fields.map((field) => ({
    name: field.name,
    type: field.type ?? null,
    tags: mergeTags(field.tags, userFieldTags?.get(field.name)),
    description: field.description ?? null,
  }));
}

/** What a Marquez `Dataset` shows beyond its record: tags added through the API, its fields' lineage. */
export interface DatasetExtras {
  readonly userTags?: Iterable<string>;
  readonly userFieldTags?: ReadonlyMap<string, Iterable<string>>;
  readonly columnLineage?: readonly ColumnLineageRecord[];
}

/**
 * A field's column lineage as a dataset lists it; the transformation of the field is that of its first
 * input field, as Marquez derives it (`ColumnLineage.getTransformationDescription`).
 */
function toFieldLineage(record: ColumnLineageRecord): MarquezFieldLineage {
  const inputFields = record.inputFields.map((input) => ({
    namespace: input.namespace,
    dataset: input.dataset,
    field: input.field,
    transformationDescription: input.transformationDescription ?? null,
    transformationType: input.transformationType ?? null,
  }));
  return {
    name: record.field,
    inputFields,
    transformationDescription: inputFields[0]?.transformationDescription ?? null,
    transformationType: inputFields[0]?.transformationType ?? null,
  };
}

/** Maps a stored dataset to Marquez's `Dataset`. */
export function toMarquezDataset(dataset: DatasetRecord, extras: DatasetExtras = {}): MarquezDataset {
  const lineage = [...(extras.columnLineage ?? [])].sort((a, b) => (a.field < b.field ? -1 : 1));
  return {
    id: { namespace: dataset.namespace, name: dataset.name },
    type: dataset.type,
    name: dataset.name,
    physicalName: dataset.physicalName,
    createdAt: dataset.createdAt,
    updatedAt: dataset.updatedAt,
    namespace: dataset.namespace,
    sourceName: dataset.sourceName,
    fields: toMarquezFields(dataset.fields, extras.userFieldTags),
    tags: mergeTags(dataset.tags, extras.userTags),
    lastModifiedAt: dataset.lastModifiedAt ?? null,
    lastLifecycleState: dataset.lastLifecycleState ?? null,
    description: dataset.description ?? null,
    facets: dataset.facets,
    currentVersion: dataset.currentVersion ?? null,
    columnLineage: lineage.length === 0 ? null : lineage.map(toFieldLineage),
    deleted: dataset.deleted ?? false,
  };
}

/** Maps a stored dataset version (with its dataset and the run that wrote it) to Marquez's `DatasetVersion`. */
export function toMarquezDatasetVersion(
  version: DatasetVersionRecord,
  dataset: DatasetRecord,
  createdByRun?: RunRecord,
  extras: Pick<DatasetExtras, 'userTags' | 'userFieldTags'> = {},
): MarquezDatasetVersion {
  return {
    id: { namespace: version.namespace, name: version.name, version: version.version },
    type: dataset.type,
    name: version.name,
    physicalName: dataset.physicalName,
    createdAt: version.createdAt,
    version: version.version,
    namespace: version.namespace,
    sourceName: dataset.sourceName,
    fields: toMarquezFields(version.fields, extras.userFieldTags),
    tags: mergeTags(dataset.tags, extras.userTags),
    lifecycleState: version.lifecycleState ?? null,
    description: dataset.description ?? null,
    createdByRun: createdByRun === undefined ? null : toMarquezRun(createdByRun),
    facets: version.facets,
  };
}

/** The records behind a lineage graph's nodes, fetched by the caller with one BatchGet. */
export interface LineageNodeData {
  jobs: ReadonlyMap<JobNodeId, { job: JobRecord; latestRun?: RunRecord; userTags?: Iterable<string> }>;
  datasets: ReadonlyMap<
    DatasetNodeId,
    DatasetRecord | { dataset: DatasetRecord; extras: Pick<DatasetExtras, 'userTags' | 'userFieldTags'> }
  >;
}

// Ingestion writes a dataset before any job holds an edge to it (ADR 0005, "Write order"), so an edge to a
// node without a record only exists in stores written before that order; the node still gets data Marquez
// clients can render instead of `null`.
function placeholderJob(id: JobNodeId): JobRecord {
  const parsed = readNodeId(id);
  const namespace = parsed?.kind === 'job' ? parsed.namespace : '';
  const name = parsed?.kind === 'job' ? parsed.name : id;
  return {
    namespace,
    name,
    type: 'BATCH',
    createdAt: '',
    updatedAt: '',
    facets: {},
    io: { current: { inputs: [], outputs: [] } },
  };
}

function placeholderDataset(id: DatasetNodeId): DatasetRecord {
  const parsed = readNodeId(id);
  const namespace = parsed?.kind === 'dataset' ? parsed.namespace : '';
  const name = parsed?.kind === 'dataset' ? parsed.name : id;
  return {
    namespace,
    name,
    type: 'DB_TABLE',
    physicalName: name,
    sourceName: namespace,
    createdAt: '',
    updatedAt: '',
    fields: [],
    tags: [],
    facets: {},
  };
}

/** Maps a lineage graph and its node records to Marquez's `LineageGraph`. */
export function toMarquezLineage(graph: LineageGraph, data: LineageNodeData): MarquezLineage {
  return {
    graph: graph.nodes.map((node): MarquezLineageNode => {
      if (node.type === 'JOB') {
        const found = data.jobs.get(node.id);
        const job = toMarquezJob(
          found?.job ?? placeholderJob(node.id),
          found?.latestRun,
          found?.userTags === undefined ? {} : { userTags: found.userTags },
        );
        return { id: node.id, type: 'JOB', data: job, inEdges: node.inEdges, outEdges: node.outEdges };
      }
      const found = data.datasets.get(node.id);
      const dataset =
        found === undefined
          ? toMarquezDataset(placeholderDataset(node.id))
          : 'extras' in found
            ? toMarquezDataset(found.dataset, found.extras)
            : toMarquezDataset(found);
      return { id: node.id, type: 'DATASET', data: dataset, inEdges: node.inEdges, outEdges: node.outEdges };
    }),
  };
}

/** Maps a column-lineage graph and the column-lineage records of its fields to Marquez's graph. */
export function toMarquezColumnLineage(
  graph: ColumnLineageGraph,
  records: ReadonlyMap<DatasetFieldNodeId, ColumnLineageRecord>,
): MarquezColumnLineage {
  return {
    graph: graph.nodes.map((node) => {
      const record = records.get(node.id);
      const parsed = readNodeId(node.id);
      const field =
        parsed?.kind === 'datasetField'
          ? parsed
          : { namespace: '', dataset: '', field: node.id.slice('datasetField:'.length) };
      return {
        id: node.id,
        type: 'DATASET_FIELD',
        data: {
          namespace: record?.namespace ?? field.namespace,
          dataset: record?.dataset ?? field.dataset,
          field: record?.field ?? field.field,
          fieldType: record?.fieldType ?? null,
          transformationDescription: record?.transformationDescription ?? null,
          transformationType: record?.transformationType ?? null,
          inputFields: (record?.inputFields ?? []).map((input) => ({
            namespace: input.namespace,
            dataset: input.dataset,
            field: input.field,
            transformationDescription: input.transformationDescription ?? null,
            transformationType: input.transformationType ?? null,
          })),
        },
        inEdges: node.inEdges,
        outEdges: node.outEdges,
      };
    }),
  };
}

/** Maps a job or dataset to a Marquez `SearchResult`. */
export function toMarquezSearchResult(
  hit: { kind: 'job'; job: JobRecord } | { kind: 'dataset'; dataset: DatasetRecord },
): MarquezSearchResult {
  if (hit.kind === 'job') {
    const { job } = hit;
    return {
      type: 'JOB',
      name: job.name,
      updatedAt: job.updatedAt,
      namespace: job.namespace,
      nodeId: jobNodeId(job.namespace, job.name),
    };
  }
  const { dataset } = hit;
  return {
    type: 'DATASET',
    name: dataset.name,
    updatedAt: dataset.updatedAt,
    namespace: dataset.namespace,
    nodeId: datasetNodeId(dataset.namespace, dataset.name),
  };
}

/** Wraps search hits in Marquez's `SearchResultList`. */
export function toMarquezSearchResults(results: MarquezSearchResult[]): MarquezSearchResults {
  return { totalCount: results.length, results };
}
