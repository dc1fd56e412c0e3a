import type { LineageGraphPort } from '../../ports/lineage-graph.js';
import type { LineageGraphSession, LineageReader, StoredJob } from '../../ports/lineage-store.js';
import { NotFoundError, UnprocessableError } from '../errors.js';
import { columnLineage, directedLineage, type LineageDirection, lineageGraph } from './graph.js';
import {
  type MarquezColumnLineage,
  type MarquezLineage,
  type MarquezSearchResult,
  type MarquezSearchResults,
  toMarquezColumnLineage,
  toMarquezLineage,
  toMarquezSearchResult,
  toMarquezSearchResults,
} from './marquez.js';
import type { ColumnLineageRecord, RunRecord, RunStateName } from './model.js';
import {
  type DatasetFieldNodeId,
  type DatasetNodeId,
  datasetFieldNodeId,
  datasetNodeId,
  type JobNodeId,
  jobNodeId,
  type NodeId,
  type ParsedNodeId,
  readNodeId,
} from './node-id.js';
import { runDurationMs } from './run-state.js';
import { matchesQuery, queryTerm } from './search.js';

/** Deepest `depth` accepted by the lineage endpoints (Marquez's default is 20). */
export const MAX_LINEAGE_DEPTH = 100;
/** Most nodes one lineage answer may visit; beyond it the caller must lower `depth` (422). */
export const MAX_LINEAGE_NODES = 2000;
/** Index entries one search reads at most. */
const maxSearchCandidates = 1000;

/** Counts what a traversal fetches and stops it past `MAX_LINEAGE_NODES`. */
function bounded(session: LineageGraphSession, maxNodes: number): LineageGraphPort {
  return {
    async neighbours(ids) {
      const answer = await session.neighbours(ids);
      if (session.fetched > maxNodes) {
        throw new UnprocessableError(
          'LINEAGE_GRAPH_TOO_LARGE',
          `The lineage graph within this depth has more than ${maxNodes} nodes; ask for a smaller depth.`,
        );
      }
      return answer;
    },
  };
}

function nodeNotFound(nodeId: string): NotFoundError {
  return new NotFoundError('LINEAGE_NODE_NOT_FOUND', `No lineage node ${nodeId}.`);
}

/** One entry of the `dk lineage` view. */
export interface LineageViewNode {
  namespace: string;
  name: string;
  /** Job hops from the root: a job's inputs are at 1, the jobs producing them at 1 too. */
  distance: number;
}

/** The last run of the `dk lineage` view. */
export interface LastRun {
  runId: string;
  status: RunStateName;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
}

/** `GET /v1/lineage/{namespace}/{name}`. */
export interface JobLineageView {
  job: { namespace: string; name: string };
  depth: number;
  direction: LineageDirection;
  upstream: { datasets: LineageViewNode[]; jobs: LineageViewNode[] };
  downstream: { datasets: LineageViewNode[]; jobs: LineageViewNode[] };
  edges: { origin: NodeId; destination: NodeId }[];
  lastRun: LastRun | null;
}

/** Marquez search options. */
export interface SearchOptions {
  filter?: 'dataset' | 'job';
  namespace?: string;
  sort: 'name' | 'updated_at';
  limit: number;
}

function lastRunOf(run: RunRecord | undefined): LastRun | null {
  if (run === undefined) return null;
  return {
    runId: run.runId,
    status: run.state,
    startedAt: run.startedAt ?? null,
    finishedAt: run.endedAt ?? null,
    durationMs: runDurationMs(run) ?? null,
  };
}

function splitSteps(steps: readonly { id: NodeId; distance: number }[]) {
  const datasets: LineageViewNode[] = [];
  const jobs: LineageViewNode[] = [];
  for (const step of steps) {
    const parsed = readNodeId(step.id);
    if (parsed === undefined || parsed.kind === 'datasetField') continue;
    // `depth` counts job hops; the walk counts edges (dataset → job → dataset ...).
    const entry = { namespace: parsed.namespace, name: parsed.name, distance: Math.ceil(step.distance / 2) };
    (parsed.kind === 'job' ? jobs : datasets).push(entry);
  }
  return { datasets, jobs };
}

/** The read use cases of the lineage capability: Marquez's read API and the `dk lineage` view. */
export function makeLineageQueries(deps: { store: LineageReader; maxNodes?: number }) {
  const { store } = deps;
  const maxNodes = deps.maxNodes ?? MAX_LINEAGE_NODES;

  return {
    /** Marquez `GET /lineage`: the component within `depth` job hops, with every node's data. */
    async lineage(nodeId: JobNodeId | DatasetNodeId, depth: number): Promise<MarquezLineage> {
      const session = store.graph();
      const graph = await lineageGraph(bounded(session, maxNodes), { nodeId, depth });
      if (graph === undefined) throw nodeNotFound(nodeId);
      const records = await session.records(graph.nodes.map((node) => node.id));
      const jobs = new Map<
        JobNodeId,
        { job: StoredJob['job']; latestRun?: RunRecord; userTags: ReadonlySet<string> }
      >();
      for (const [id, stored] of records.jobs) {
        jobs.set(
          id,
          stored.latestRun === undefined
            ? { job: stored.job, userTags: stored.userTags }
            : { job: stored.job, latestRun: stored.latestRun, userTags: stored.userTags },
        );
      }
      const datasets = new Map(
        [...records.datasets].map(([id, stored]) => [
          id,
          {
            dataset: stored.dataset,
            extras: { userTags: stored.userTags, userFieldTags: stored.userFieldTags },
          },
        ]),
      );
      return toMarquezLineage(graph, { jobs, datasets });
    },

    /**
     * Marquez `GET /column-lineage`: from a field, every field of a dataset, or every field of a job's
     * outputs, the fields they are computed from (and with `withDownstream` those computed from them).
     */
    async columnLineage(
      node: ParsedNodeId,
      depth: number,
      withDownstream: boolean,
    ): Promise<MarquezColumnLineage> {
      const session = store.graph();
      let roots: DatasetFieldNodeId[];
      if (node.kind === 'datasetField') {
        roots = [datasetFieldNodeId(node.namespace, node.dataset, node.field)];
      } else {
        let datasetIds: DatasetNodeId[];
        if (node.kind === 'dataset') {
          datasetIds = [datasetNodeId(node.namespace, node.name)];
        } else {
          const id = jobNodeId(node.namespace, node.name);
          const job = (await session.records([id])).jobs.get(id);
          if (job === undefined) throw nodeNotFound(id);
          datasetIds = job.job.io.current.outputs.map((ref) => datasetNodeId(ref.namespace, ref.name));
        }
        const { datasets } = await session.records(datasetIds);
        if (node.kind === 'dataset' && datasets.size === 0) throw nodeNotFound(datasetIds[0] ?? '');
        roots = [...datasets.values()].flatMap(({ dataset, lineageFields }) =>
          [...new Set([...dataset.fields.map((field) => field.name), ...lineageFields])].map((field) =>
            datasetFieldNodeId(dataset.namespace, dataset.name, field),
          ),
        );
      }
      const graph =
        roots.length === 0
          ? undefined
          : await columnLineage(bounded(session, maxNodes), { nodeIds: roots, depth, withDownstream });
      if (graph === undefined) {
        if (node.kind === 'datasetField') throw nodeNotFound(roots[0] ?? '');
        return { graph: [] };
      }
      const { fields } = await session.records(graph.nodes.map((n) => n.id));
      const records = new Map<DatasetFieldNodeId, ColumnLineageRecord>();
      for (const [id, field] of fields) if (field.record !== undefined) records.set(id, field.record);
      return toMarquezColumnLineage(graph, records);
    },

    /** `GET /v1/lineage/{namespace}/{name}`: what feeds a job and what it feeds, plus its last run. */
    async jobLineageView(
      namespace: string,
      name: string,
      depth: number,
      direction: LineageDirection,
    ): Promise<JobLineageView> {
      const session = store.graph();
      const id = jobNodeId(namespace, name);
      const walked = await directedLineage(bounded(session, maxNodes), { nodeId: id, depth, direction });
      if (walked === undefined) throw new NotFoundError('JOB_NOT_FOUND', `No job ${namespace}:${name}.`);
      const job = (await session.records([id])).jobs.get(id);
      return {
        job: { namespace, name },
        depth,
        direction,
        upstream: splitSteps(walked.upstream),
        downstream: splitSteps(walked.downstream),
        edges: walked.edges,
        lastRun: lastRunOf(job?.latestRun),
      };
    },

    /** Marquez `GET /search`: jobs and datasets whose name matches `q` (word-prefix index, no Scan). */
    async search(q: string, options: SearchOptions): Promise<MarquezSearchResults> {
      const term = queryTerm(q);
      if (term === undefined) return toMarquezSearchResults([]);
      const candidates = await store.searchTerm(term, maxSearchCandidates);
      const seen = new Set<string>();
      const matching = candidates.filter((candidate) => {
        if (seen.has(candidate.nodeId)) return false;
        seen.add(candidate.nodeId);
        return (
          matchesQuery(candidate.name, q) &&
          (options.filter === undefined || candidate.kind === options.filter) &&
          (options.namespace === undefined || candidate.namespace === options.namespace)
        );
      });
      const byName = (a: { name: string; namespace: string }, b: { name: string; namespace: string }) =>
        a.name.localeCompare(b.name) || a.namespace.localeCompare(b.namespace);
      const wanted = options.sort === 'name' ? matching.sort(byName).slice(0, options.limit) : matching;
      const session = store.graph();
      const records = await session.records(wanted.map((candidate) => candidate.nodeId));
      const results: MarquezSearchResult[] = wanted.flatMap((candidate) => {
        if (candidate.kind === 'job') {
          const job = records.jobs.get(candidate.nodeId);
          return job === undefined ? [] : [toMarquezSearchResult({ kind: 'job', job: job.job })];
        }
        const dataset = records.datasets.get(candidate.nodeId);
        return dataset === undefined
          ? []
          : [toMarquezSearchResult({ kind: 'dataset', dataset: dataset.dataset })];
      });
      if (options.sort === 'updated_at') results.sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : -1));
      return toMarquezSearchResults(results.slice(0, options.limit));
    },
  };
}

/** The lineage read use cases, for handlers and tests. */
export type LineageQueries = ReturnType<typeof makeLineageQueries>;
