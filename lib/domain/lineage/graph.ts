import type { LineageGraphPort, NodeAdjacency } from '../../ports/lineage-graph.js';
import {
  type DatasetFieldNodeId,
  type DatasetNodeId,
  isDatasetFieldNodeId,
  isDatasetNodeId,
  isJobNodeId,
  type JobNodeId,
  type NodeId,
} from './node-id.js';

/** Marquez's default `depth` for `/lineage` and `/column-lineage`. */
export const DEFAULT_LINEAGE_DEPTH = 20;

/** A directed edge: data flows from `origin` to `destination`. */
export interface Edge {
  origin: NodeId;
  destination: NodeId;
}

/** The edges of a node to other nodes of the same graph. */
export interface NodeEdges {
  inEdges: Edge[];
  outEdges: Edge[];
}

/** A job node of the table-level graph. */
export interface JobLineageNode extends NodeEdges {
  id: JobNodeId;
  type: 'JOB';
}

/** A dataset node of the table-level graph. */
export interface DatasetLineageNode extends NodeEdges {
  id: DatasetNodeId;
  type: 'DATASET';
}

/** A node of the table-level graph with the edges to other nodes of the same graph. */
export type LineageNode = JobLineageNode | DatasetLineageNode;

/** The answer of `/api/v1/lineage`, without node data (the Marquez mapper attaches it). */
export interface LineageGraph {
  nodes: LineageNode[];
}

/** A node of the column-level graph. */
export interface ColumnLineageNode {
  id: DatasetFieldNodeId;
  type: 'DATASET_FIELD';
  inEdges: Edge[];
  outEdges: Edge[];
}

/** The answer of `/api/v1/column-lineage`, without node data. */
export interface ColumnLineageGraph {
  nodes: ColumnLineageNode[];
}

/** Which way `directedLineage` walks from its root. */
export type LineageDirection = 'upstream' | 'downstream' | 'both';

/** A node reached by `directedLineage`, `distance` edges away from the root. */
export interface LineageStep {
  id: NodeId;
  type: 'JOB' | 'DATASET';
  distance: number;
}

/** The `dk lineage` view: what feeds a node and what it feeds, nearest first. */
export interface DirectedLineage {
  root: NodeId;
  upstream: LineageStep[];
  downstream: LineageStep[];
  /** Every edge walked, in data-flow direction. */
  edges: Edge[];
}

const NO_EDGES: NodeAdjacency = { in: [], out: [] };

function normalizeDepth(depth: number | undefined): number {
  if (depth === undefined || !Number.isFinite(depth)) return DEFAULT_LINEAGE_DEPTH;
  return Math.max(0, Math.trunc(depth));
}

function byId<T extends { id: string }>(a: T, b: T): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function byEdge(a: Edge, b: Edge): number {
  const left = `${a.origin}\u0000${a.destination}`;
  const right = `${b.origin}\u0000${b.destination}`;
  return left < right ? -1 : left > right ? 1 : 0;
}

function unique<T>(items: Iterable<T>): T[] {
  return [...new Set(items)];
}

/** Fetches the adjacency of `ids` not fetched yet, in one port call; remembers absent nodes as absent. */
async function fetchMissing(
  port: LineageGraphPort,
  known: Map<NodeId, NodeAdjacency | undefined>,
  ids: readonly NodeId[],
): Promise<void> {
  const missing = unique(ids).filter((id) => !known.has(id));
  if (missing.length === 0) return;
  const answer = await port.neighbours(missing);
  for (const id of missing) known.set(id, answer.get(id));
}

/**
 * Marquez's `/lineage`: the jobs within `depth` job hops of the node, where two jobs are one hop apart when
 * they share a dataset in any role (producer, consumer, or both reading it — Marquez walks both directions),
 * plus every dataset those jobs read or write. Job nodes carry all their edges; dataset nodes only the edges
 * to jobs in the graph. From a dataset, every job touching it is at hop 0 (Marquez picks one of them
 * arbitrarily). A dataset no job touches is returned alone; an unknown node yields `undefined`. A job is
 * reached through a dataset only when it holds the edge the dataset lists (see `isIndexSide`).
 * Each BFS level costs one port call for its datasets and one for its jobs.
 */
export async function lineageGraph(
  port: LineageGraphPort,
  query: { nodeId: JobNodeId | DatasetNodeId; depth?: number },
): Promise<LineageGraph | undefined> {
  const depth = normalizeDepth(query.depth);
  const known = new Map<NodeId, NodeAdjacency | undefined>();
  await fetchMissing(port, known, [query.nodeId]);
  const start = known.get(query.nodeId);
  if (start === undefined) return undefined;

  const jobs = new Map<JobNodeId, NodeAdjacency>();
  const seenDatasets = new Set<NodeId>();
  // A dataset's writers and readers index the jobs holding an edge to it; an entry counts only when the job
  // holds that edge (ingestion lists a job on a dataset before the job holds the edge, and removes it after).
  const admitJobs = async (datasets: readonly DatasetNodeId[]): Promise<JobNodeId[]> => {
    const candidates = new Map<JobNodeId, { reads: DatasetNodeId[]; writes: DatasetNodeId[] }>();
    const candidate = (id: JobNodeId) => {
      let found = candidates.get(id);
      if (found === undefined) {
        found = { reads: [], writes: [] };
        candidates.set(id, found);
      }
      return found;
    };
    for (const dataset of datasets) {
      const adjacency = known.get(dataset) ?? NO_EDGES;
      for (const writer of adjacency.in.filter(isJobNodeId)) candidate(writer).writes.push(dataset);
      for (const reader of adjacency.out.filter(isJobNodeId)) candidate(reader).reads.push(dataset);
    }
    const fresh = [...candidates.keys()].filter((id) => !jobs.has(id));
    await fetchMissing(port, known, fresh);
    const admitted: JobNodeId[] = [];
    for (const id of fresh) {
      const adjacency = known.get(id);
      const via = candidates.get(id);
      if (adjacency === undefined || via === undefined) continue;
      const holds =
        via.reads.some((dataset) => adjacency.in.includes(dataset)) ||
        via.writes.some((dataset) => adjacency.out.includes(dataset));
      if (!holds) continue;
      jobs.set(id, adjacency);
      admitted.push(id);
    }
    return admitted;
  };

  let frontier: JobNodeId[];
  if (isJobNodeId(query.nodeId)) {
    jobs.set(query.nodeId, start);
    frontier = [query.nodeId];
  } else {
    seenDatasets.add(query.nodeId);
    frontier = await admitJobs([query.nodeId]);
  }

  for (let hop = 0; hop < depth && frontier.length > 0; hop++) {
    const datasets = unique(
      frontier.flatMap((id) => {
        const adjacency = jobs.get(id) ?? NO_EDGES;
        return [...adjacency.in, ...adjacency.out].filter(isDatasetNodeId);
      }),
    ).filter((id) => !seenDatasets.has(id));
    for (const id of datasets) seenDatasets.add(id);
    await fetchMissing(port, known, datasets);
    frontier = await admitJobs(datasets);
  }

  return toLineageGraph(jobs, isDatasetNodeId(query.nodeId) ? query.nodeId : undefined);
}

function toLineageGraph(jobs: Map<JobNodeId, NodeAdjacency>, startDataset: DatasetNodeId | undefined) {
  const datasets = new Map<DatasetNodeId, DatasetLineageNode>();
  const datasetNode = (id: DatasetNodeId): DatasetLineageNode => {
    let node = datasets.get(id);
    if (node === undefined) {
      node = { id, type: 'DATASET', inEdges: [], outEdges: [] };
      datasets.set(id, node);
    }
    return node;
  };
  if (startDataset !== undefined) datasetNode(startDataset);

  const jobNodes: JobLineageNode[] = [];
  for (const [job, adjacency] of jobs) {
    const inEdges = unique(adjacency.in.filter(isDatasetNodeId)).map((dataset) => ({
      origin: dataset,
      destination: job,
    }));
    const outEdges = unique(adjacency.out.filter(isDatasetNodeId)).map((dataset) => ({
      origin: job,
      destination: dataset,
    }));
    for (const edge of inEdges) datasetNode(edge.origin).outEdges.push(edge);
    for (const edge of outEdges) datasetNode(edge.destination).inEdges.push(edge);
    jobNodes.push({ id: job, type: 'JOB', inEdges, outEdges });
  }

  const nodes: LineageNode[] = [...jobNodes, ...datasets.values()].sort(byId);
  for (const node of nodes) {
    node.inEdges.sort(byEdge);
    node.outEdges.sort(byEdge);
  }
  return { nodes };
}

type Side = 'in' | 'out';

interface Walk {
  reached: Map<NodeId, number>;
  edges: Map<string, Edge>;
  frontier: NodeId[];
}

/**
 * Whether this side of a node's adjacency is an index rather than the record of its edges: a dataset's
 * writers and readers, a field's consumers. The other end of such an edge holds the record (a job's IO, a
 * field's inputs) and must confirm the entry: ingestion adds an entry before the record names the edge and
 * removes it after the record dropped it, so an unconfirmed entry is an edge in progress, not an edge.
 */
function isIndexSide(id: NodeId, side: Side): boolean {
  return isDatasetNodeId(id) || (isDatasetFieldNodeId(id) && side === 'out');
}

function confirms(neighbour: NodeAdjacency | undefined, id: NodeId, side: Side): boolean {
  return (side === 'out' ? neighbour?.in : neighbour?.out)?.includes(id) === true;
}

/**
 * Breadth-first walk from `roots` along `in` and/or `out` edges for at most `maxHops` edges. Every level is
 * one port call covering both sides (two when it reads index entries, whose nodes are fetched to confirm
 * them), and a node's adjacency is fetched at most once.
 */
async function walk(
  port: LineageGraphPort,
  known: Map<NodeId, NodeAdjacency | undefined>,
  roots: readonly NodeId[],
  sides: readonly Side[],
  maxHops: number,
): Promise<Map<Side, Walk>> {
  const walks = new Map<Side, Walk>(
    sides.map((side) => [
      side,
      { reached: new Map(roots.map((root) => [root, 0])), edges: new Map(), frontier: [...roots] },
    ]),
  );
  for (let hop = 0; hop < maxHops; hop++) {
    const frontiers = [...walks.values()].flatMap((w) => w.frontier);
    if (frontiers.length === 0) break;
    await fetchMissing(port, known, frontiers);
    const indexed = [...walks].flatMap(([side, w]) =>
      w.frontier.flatMap((id) => (isIndexSide(id, side) ? (known.get(id) ?? NO_EDGES)[side] : [])),
    );
    await fetchMissing(port, known, indexed);
    for (const [side, current] of walks) {
      const next: NodeId[] = [];
      for (const id of current.frontier) {
        for (const neighbour of (known.get(id) ?? NO_EDGES)[side]) {
          if (isIndexSide(id, side) && !confirms(known.get(neighbour), id, side)) continue;
          const edge =
            side === 'in' ? { origin: neighbour, destination: id } : { origin: id, destination: neighbour };
          current.edges.set(`${edge.origin}\u0000${edge.destination}`, edge);
          if (!current.reached.has(neighbour)) {
            current.reached.set(neighbour, hop + 1);
            next.push(neighbour);
          }
        }
      }
      current.frontier = next;
    }
  }
  return walks;
}

function steps(reached: Map<NodeId, number> | undefined, root: NodeId): LineageStep[] {
  const out: LineageStep[] = [];
  for (const [id, distance] of reached ?? []) {
    if (id === root || isDatasetFieldNodeId(id)) continue;
    out.push({ id, type: isJobNodeId(id) ? 'JOB' : 'DATASET', distance });
  }
  return out.sort((a, b) => a.distance - b.distance || byId(a, b));
}

/**
 * The `dk lineage` view: from a job or dataset, the datasets and jobs upstream (what it is computed from)
 * and/or downstream (what is computed from it). `depth` counts job hops: depth 1 from a job reaches its
 * inputs and the jobs producing them, i.e. at most `2 × depth` edges. `undefined` when the root is unknown.
 */
export async function directedLineage(
  port: LineageGraphPort,
  query: { nodeId: JobNodeId | DatasetNodeId; depth?: number; direction?: LineageDirection },
): Promise<DirectedLineage | undefined> {
  const depth = normalizeDepth(query.depth);
  const direction = query.direction ?? 'both';
  const known = new Map<NodeId, NodeAdjacency | undefined>();
  await fetchMissing(port, known, [query.nodeId]);
  if (known.get(query.nodeId) === undefined) return undefined;
  const sides: Side[] = direction === 'both' ? ['in', 'out'] : direction === 'upstream' ? ['in'] : ['out'];
  const walks = await walk(port, known, [query.nodeId], sides, 2 * depth);
  const edges = new Map<string, Edge>();
  for (const w of walks.values()) for (const [key, edge] of w.edges) edges.set(key, edge);
  return {
    root: query.nodeId,
    upstream: walks.has('in') ? steps(walks.get('in')?.reached, query.nodeId) : [],
    downstream: walks.has('out') ? steps(walks.get('out')?.reached, query.nodeId) : [],
    edges: [...edges.values()].sort(byEdge),
  };
}

/**
 * Marquez's `/column-lineage`: from the given fields (a field, or every field of a dataset or of a job's
 * outputs — the caller expands those), the fields they are computed from, and with `withDownstream` the fields
 * computed from them. `depth` counts edges from the given fields, as Marquez's recursive query does (it
 * starts with their own lineage at depth 0 and extends while `depth < requested - 1`, so depth 0 and 1
 * both reach one edge). `undefined` when none of the fields is known.
 */
export async function columnLineage(
  port: LineageGraphPort,
  query: { nodeIds: readonly DatasetFieldNodeId[]; depth?: number; withDownstream?: boolean },
): Promise<ColumnLineageGraph | undefined> {
  const depth = normalizeDepth(query.depth);
  const known = new Map<NodeId, NodeAdjacency | undefined>();
  await fetchMissing(port, known, query.nodeIds);
  const roots = unique(query.nodeIds).filter((id) => known.get(id) !== undefined);
  if (roots.length === 0) return undefined;
  const walks = await walk(
    port,
    known,
    roots,
    query.withDownstream === true ? ['in', 'out'] : ['in'],
    Math.max(1, depth),
  );

  const nodes = new Map<DatasetFieldNodeId, ColumnLineageNode>();
  const node = (id: DatasetFieldNodeId): ColumnLineageNode => {
    let found = nodes.get(id);
    if (found === undefined) {
      found = { id, type: 'DATASET_FIELD', inEdges: [], outEdges: [] };
      nodes.set(id, found);
    }
    return found;
  };
  for (const root of roots) node(root);
  const edges = new Map<string, Edge>();
  for (const w of walks.values()) for (const [key, edge] of w.edges) edges.set(key, edge);
  for (const edge of edges.values()) {
    if (!isDatasetFieldNodeId(edge.origin) || !isDatasetFieldNodeId(edge.destination)) continue;
    node(edge.origin).outEdges.push(edge);
    node(edge.destination).inEdges.push(edge);
  }
  const sorted = [...nodes.values()].sort(byId);
  for (const n of sorted) {
    n.inEdges.sort(byEdge);
    n.outEdges.sort(byEdge);
  }
  return { nodes: sorted };
}
