import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  columnLineage,
  DEFAULT_LINEAGE_DEPTH,
  directedLineage,
  type Edge,
  lineageGraph,
} from '../../../lib/domain/lineage/graph.js';
import {
  type DatasetFieldNodeId,
  type DatasetNodeId,
  datasetFieldNodeId,
  datasetNodeId,
  type JobNodeId,
  jobNodeId,
  type NodeId,
} from '../../../lib/domain/lineage/node-id.js';
import type { LineageGraphPort, NodeAdjacency } from '../../../lib/ports/lineage-graph.js';

// The world under test is described as plain job IO (what each job reads and writes) or as a plain edge list;
// the port's adjacency and every expected answer are derived from that description independently.

interface JobIo {
  inputs: number[];
  outputs: number[];
}

const ds = (i: number): DatasetNodeId => datasetNodeId('postgres://db:5432', `public.t${i}`);
const job = (i: number): JobNodeId => jobNodeId('airflow', `dag.task${i}`);
const col = (i: number): DatasetFieldNodeId => datasetFieldNodeId('ns', `t${i % 3}`, `c${i}`);

/** A port over an edge list that records every id it is asked for. */
class RecordingPort implements LineageGraphPort {
  readonly calls: NodeId[][] = [];
  private readonly adjacency = new Map<NodeId, { in: NodeId[]; out: NodeId[] }>();

  constructor(nodes: Iterable<NodeId>, edges: Iterable<Edge>) {
    for (const node of nodes) this.adjacency.set(node, { in: [], out: [] });
    for (const edge of edges) {
      this.adjacency.get(edge.origin)?.out.push(edge.destination);
      this.adjacency.get(edge.destination)?.in.push(edge.origin);
    }
  }

  async neighbours(nodeIds: readonly NodeId[]): Promise<ReadonlyMap<NodeId, NodeAdjacency>> {
    this.calls.push([...nodeIds]);
    const answer = new Map<NodeId, NodeAdjacency>();
    for (const id of nodeIds) {
      const found = this.adjacency.get(id);
      if (found !== undefined) answer.set(id, found);
    }
    return answer;
  }

  get requested(): NodeId[] {
    return this.calls.flat();
  }
}

function ioEdges(jobs: JobIo[]): Edge[] {
  return jobs.flatMap((io, j) => [
    ...io.inputs.map((d) => ({ origin: ds(d), destination: job(j) })),
    ...io.outputs.map((d) => ({ origin: job(j), destination: ds(d) })),
  ]);
}

function portFor(jobs: JobIo[], datasetCount: number): RecordingPort {
  const nodes: NodeId[] = [...jobs.keys()].map(job);
  for (let d = 0; d < datasetCount; d++) nodes.push(ds(d));
  return new RecordingPort(nodes, ioEdges(jobs));
}

const edgeKey = (edge: Edge) => `${edge.origin} -> ${edge.destination}`;

/** Oracle for Marquez's /lineage: grow the set of jobs `depth` times by "shares a dataset with". */
function expectedLineage(jobs: JobIo[], start: { job: number } | { dataset: number }, depth: number) {
  const touches = (j: number) => new Set([...(jobs[j]?.inputs ?? []), ...(jobs[j]?.outputs ?? [])]);
  let included = new Set<number>(
    'job' in start ? [start.job] : [...jobs.keys()].filter((j) => touches(j).has(start.dataset)),
  );
  for (let round = 0; round < depth; round++) {
    const grown = new Set(included);
    for (const a of included) {
      for (const b of jobs.keys()) {
        if ([...touches(a)].some((d) => touches(b).has(d))) grown.add(b);
      }
    }
    included = grown;
  }
  const nodes = new Map<string, { in: Set<string>; out: Set<string> }>();
  const node = (id: string) => {
    if (!nodes.has(id)) nodes.set(id, { in: new Set(), out: new Set() });
    return nodes.get(id) ?? { in: new Set<string>(), out: new Set<string>() };
  };
  if ('dataset' in start) node(ds(start.dataset));
  for (const j of included) {
    node(job(j));
    for (const d of new Set(jobs[j]?.inputs)) {
      const edge = edgeKey({ origin: ds(d), destination: job(j) });
      node(job(j)).in.add(edge);
      node(ds(d)).out.add(edge);
    }
    for (const d of new Set(jobs[j]?.outputs)) {
      const edge = edgeKey({ origin: job(j), destination: ds(d) });
      node(job(j)).out.add(edge);
      node(ds(d)).in.add(edge);
    }
  }
  return nodes;
}

function actualShape(nodes: { id: string; inEdges: Edge[]; outEdges: Edge[] }[]) {
  return new Map(
    nodes.map((n) => [n.id, { in: new Set(n.inEdges.map(edgeKey)), out: new Set(n.outEdges.map(edgeKey)) }]),
  );
}

/** Oracle for directed walks: relax distances over the edge list until nothing changes. */
function expectedWalk(edges: Edge[], roots: string[], side: 'in' | 'out', maxHops: number) {
  const distance = new Map<string, number>(roots.map((root) => [root, 0]));
  let changed = true;
  while (changed) {
    changed = false;
    for (const edge of edges) {
      const [from, to] = side === 'in' ? [edge.destination, edge.origin] : [edge.origin, edge.destination];
      const d = distance.get(from);
      if (d !== undefined && d < maxHops && (distance.get(to) ?? Number.POSITIVE_INFINITY) > d + 1) {
        distance.set(to, d + 1);
        changed = true;
      }
    }
  }
  const walked = edges.filter((edge) => {
    const d = distance.get(side === 'in' ? edge.destination : edge.origin);
    return d !== undefined && d < maxHops;
  });
  return { distance, walked };
}

const jobWorld = fc
  .record({ jobCount: fc.integer({ min: 1, max: 8 }), datasetCount: fc.integer({ min: 1, max: 10 }) })
  .chain(({ jobCount, datasetCount }) =>
    fc.record({
      datasetCount: fc.constant(datasetCount),
      jobs: fc.array(
        fc.record({
          inputs: fc.array(fc.nat({ max: datasetCount - 1 }), { maxLength: 3 }),
          outputs: fc.array(fc.nat({ max: datasetCount - 1 }), { maxLength: 3 }),
        }),
        { minLength: jobCount, maxLength: jobCount },
      ),
    }),
  );

const depthArb = fc.integer({ min: 0, max: 5 });

describe('lineageGraph (Marquez /lineage)', () => {
  it('returns every job within depth job-hops (sharing a dataset in any role) and all their datasets', async () => {
    await fc.assert(
      fc.asyncProperty(jobWorld, depthArb, fc.nat(), async ({ jobs, datasetCount }, depth, pick) => {
        const start = pick % 2 === 0 ? { job: pick % jobs.length } : { dataset: pick % datasetCount };
        const port = portFor(jobs, datasetCount);
        const nodeId = 'job' in start ? job(start.job) : ds(start.dataset);

        const graph = await lineageGraph(port, { nodeId, depth });

        expect(graph).toBeDefined();
        expect(actualShape(graph?.nodes ?? [])).toEqual(expectedLineage(jobs, start, depth));
      }),
      { numRuns: 300 },
    );
  });

  it('costs O(nodes returned): each id is read once, only ids that are returned, one call per half-level', async () => {
    await fc.assert(
      fc.asyncProperty(jobWorld, depthArb, fc.nat(), async ({ jobs, datasetCount }, depth, pick) => {
        const port = portFor(jobs, datasetCount);
        const nodeId = pick % 2 === 0 ? job(pick % jobs.length) : ds(pick % datasetCount);

        const graph = await lineageGraph(port, { nodeId, depth });

        const returned = new Set<string>(graph?.nodes.map((n) => n.id));
        expect(new Set(port.requested).size).toBe(port.requested.length);
        expect(port.requested.every((id) => returned.has(id))).toBe(true);
        expect(port.calls.length).toBeLessThanOrEqual(2 * depth + 2);
      }),
      { numRuns: 200 },
    );
  });

  it('walks a chain only as far as depth allows', async () => {
    // d0 -> j0 -> d1 -> j1 -> d2 -> j2 -> d3
    const jobs = [0, 1, 2].map((i) => ({ inputs: [i], outputs: [i + 1] }));

    const graph = await lineageGraph(portFor(jobs, 4), { nodeId: job(0), depth: 1 });

    expect(graph?.nodes.map((n) => n.id)).toEqual([ds(0), ds(1), ds(2), job(0), job(1)].sort());
  });

  it('includes sibling consumers of a shared dataset, as Marquez does', async () => {
    const jobs = [
      { inputs: [0], outputs: [1] },
      { inputs: [0], outputs: [2] },
    ];

    const graph = await lineageGraph(portFor(jobs, 3), { nodeId: job(0), depth: 1 });

    expect(graph?.nodes.map((n) => n.id)).toContain(job(1));
  });

  it('gives dataset nodes only the edges to jobs inside the graph', async () => {
    const jobs = [
      { inputs: [0], outputs: [1] },
      { inputs: [1], outputs: [2] },
      { inputs: [2], outputs: [3] },
    ];

    const graph = await lineageGraph(portFor(jobs, 4), { nodeId: job(0), depth: 1 });

    const d2 = graph?.nodes.find((n) => n.id === ds(2));
    expect(d2?.inEdges).toEqual([{ origin: job(1), destination: ds(2) }]);
    expect(d2?.outEdges).toEqual([]);
  });

  it('terminates on cycles', async () => {
    const jobs = [
      { inputs: [0], outputs: [1] },
      { inputs: [1], outputs: [0] },
    ];

    const graph = await lineageGraph(portFor(jobs, 2), { nodeId: ds(0), depth: 50 });

    expect(graph?.nodes).toHaveLength(4);
  });

  it('returns a dataset no job touches on its own', async () => {
    const graph = await lineageGraph(portFor([{ inputs: [0], outputs: [] }], 2), { nodeId: ds(1) });

    expect(graph).toEqual({ nodes: [{ id: ds(1), type: 'DATASET', inEdges: [], outEdges: [] }] });
  });

  it('returns undefined for an unknown node', async () => {
    const graph = await lineageGraph(portFor([], 0), { nodeId: job(7) });

    expect(graph).toBeUndefined();
  });

  it('uses depth 20 by default and treats a negative depth as 0', async () => {
    const jobs = Array.from({ length: 25 }, (_, i) => ({ inputs: [i], outputs: [i + 1] }));
    const port = portFor(jobs, 26);

    const deep = await lineageGraph(port, { nodeId: job(0) });
    const shallow = await lineageGraph(port, { nodeId: job(0), depth: -3 });

    expect(deep?.nodes.filter((n) => n.type === 'JOB')).toHaveLength(DEFAULT_LINEAGE_DEPTH + 1);
    expect(shallow?.nodes.filter((n) => n.type === 'JOB')).toHaveLength(1);
  });
});

describe('directedLineage (dk lineage)', () => {
  it('finds upstream and downstream nodes at their edge distance, within 2 x depth edges', async () => {
    await fc.assert(
      fc.asyncProperty(
        jobWorld,
        depthArb,
        fc.nat(),
        fc.constantFrom('upstream' as const, 'downstream' as const, 'both' as const),
        async ({ jobs, datasetCount }, depth, pick, direction) => {
          const port = portFor(jobs, datasetCount);
          const root = pick % 2 === 0 ? job(pick % jobs.length) : ds(pick % datasetCount);
          const edges = ioEdges(jobs);

          const view = await directedLineage(port, { nodeId: root, depth, direction });

          const up = expectedWalk(edges, [root], 'in', 2 * depth);
          const down = expectedWalk(edges, [root], 'out', 2 * depth);
          const asMap = (steps: { id: string; distance: number }[]) =>
            new Map(steps.map((s) => [s.id, s.distance]));
          const without = (distance: Map<string, number>) =>
            new Map([...distance].filter(([id]) => id !== root));
          expect(asMap(view?.upstream ?? [])).toEqual(
            direction === 'downstream' ? new Map() : without(up.distance),
          );
          expect(asMap(view?.downstream ?? [])).toEqual(
            direction === 'upstream' ? new Map() : without(down.distance),
          );
          const walked = [
            ...(direction === 'downstream' ? [] : up.walked),
            ...(direction === 'upstream' ? [] : down.walked),
          ];
          expect(new Set(view?.edges.map(edgeKey))).toEqual(new Set(walked.map(edgeKey)));
          expect(new Set(port.requested).size).toBe(port.requested.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('lists a job’s upstream nearest first: its inputs, then their producers', async () => {
    const jobs = [
      { inputs: [0], outputs: [1] },
      { inputs: [1], outputs: [2] },
    ];

    const view = await directedLineage(portFor(jobs, 3), { nodeId: job(1), depth: 1, direction: 'upstream' });

    expect(view?.upstream).toEqual([
      { id: ds(1), type: 'DATASET', distance: 1 },
      { id: job(0), type: 'JOB', distance: 2 },
    ]);
    expect(view?.downstream).toEqual([]);
  });
});

const fieldWorld = fc.record({
  fieldCount: fc.integer({ min: 1, max: 12 }),
  edges: fc.array(fc.tuple(fc.nat({ max: 11 }), fc.nat({ max: 11 })), { maxLength: 25 }),
});

describe('columnLineage (Marquez /column-lineage)', () => {
  it('returns upstream (and optionally downstream) fields within depth hops (at least one) and the edges walked', async () => {
    await fc.assert(
      fc.asyncProperty(
        fieldWorld,
        depthArb,
        fc.array(fc.nat({ max: 11 }), { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        async ({ fieldCount, edges: pairs }, depth, starts, withDownstream) => {
          const edges = pairs
            .filter(([a, b]) => a < fieldCount && b < fieldCount)
            .map(([a, b]) => ({ origin: col(a), destination: col(b) }));
          const nodes = Array.from({ length: fieldCount }, (_, i) => col(i));
          const port = new RecordingPort(nodes, edges);
          const roots = [...new Set(starts.filter((s) => s < fieldCount).map(col))];

          const graph = await columnLineage(port, { nodeIds: starts.map(col), depth, withDownstream });

          if (roots.length === 0) {
            expect(graph).toBeUndefined();
            return;
          }
          const hops = Math.max(1, depth);
          const up = expectedWalk(edges, roots, 'in', hops);
          const down = withDownstream ? expectedWalk(edges, roots, 'out', hops) : undefined;
          const walked = new Set([...up.walked, ...(down?.walked ?? [])].map(edgeKey));
          const expectedIds = new Set([...up.distance.keys(), ...(down?.distance.keys() ?? [])]);
          expect(new Set(graph?.nodes.map((n) => n.id))).toEqual(expectedIds);
          for (const node of graph?.nodes ?? []) {
            const ins = [...walked].filter((e) => e.endsWith(` -> ${node.id}`));
            const outs = [...walked].filter((e) => e.startsWith(`${node.id} -> `));
            expect(new Set(node.inEdges.map(edgeKey))).toEqual(new Set(ins));
            expect(new Set(node.outEdges.map(edgeKey))).toEqual(new Set(outs));
          }
          expect(new Set(port.requested).size).toBe(port.requested.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('with depth 0 returns a field and its direct inputs, like Marquez', async () => {
    const edges = [
      { origin: col(0), destination: col(1) },
      { origin: col(1), destination: col(2) },
    ];

    const graph = await columnLineage(new RecordingPort([col(0), col(1), col(2)], edges), {
      nodeIds: [col(2)],
      depth: 0,
    });

    expect(graph?.nodes.map((n) => n.id)).toEqual([col(1), col(2)]);
  });

  // Marquez's ColumnLineageIntegrationTest.testColumnLineageEndpointWithDepthLimit: col_d ← col_c ← (col_a,
  // col_b); depth 1 from col_d answers col_c and col_d only.
  it('with depth 1 returns a field and its direct inputs only, as Marquez’s depth-limit test expects', async () => {
    const [a, b, c, d] = [col(0), col(1), col(2), col(3)];
    const edges = [
      { origin: a, destination: c },
      { origin: b, destination: c },
      { origin: c, destination: d },
    ];

    const graph = await columnLineage(new RecordingPort([a, b, c, d], edges), { nodeIds: [d], depth: 1 });

    expect(new Set(graph?.nodes.map((n) => n.id))).toEqual(new Set([c, d]));
  });

  it('with depth 2 reaches the inputs of the inputs', async () => {
    const [a, b, c, d] = [col(0), col(1), col(2), col(3)];
    const edges = [
      { origin: a, destination: c },
      { origin: b, destination: c },
      { origin: c, destination: d },
    ];

    const graph = await columnLineage(new RecordingPort([a, b, c, d], edges), { nodeIds: [d], depth: 2 });

    expect(new Set(graph?.nodes.map((n) => n.id))).toEqual(new Set([a, b, c, d]));
  });

  it('returns undefined when no requested field is known', async () => {
    const graph = await columnLineage(new RecordingPort([], []), { nodeIds: [col(1)] });

    expect(graph).toBeUndefined();
  });
});

/** A port answering exactly the adjacency given, however inconsistent (as a crash or a race leaves it). */
function portOf(adjacency: Record<NodeId, NodeAdjacency>): LineageGraphPort {
  return {
    async neighbours(ids) {
      const answer = new Map<NodeId, NodeAdjacency>();
      for (const id of ids) {
        const found = adjacency[id];
        if (found !== undefined) answer.set(id, found);
      }
      return answer;
    },
  };
}

describe('entries of an index the other end does not confirm (an edge being added or removed)', () => {
  // job 0 reads d0 and writes d1. d0 also lists job 1 as a reader and d1 job 2 as a writer, which neither
  // holds (job 1 reads d2; job 2 is not written yet), and d0 lists job 3 which does not exist.
  const world = portOf({
    [job(0)]: { in: [ds(0)], out: [ds(1)] },
    [job(1)]: { in: [ds(2)], out: [] },
    [ds(0)]: { in: [], out: [job(0), job(1), job(3)] },
    [ds(1)]: { in: [job(0), job(2)], out: [] },
    [ds(2)]: { in: [], out: [job(1)] },
  });

  it('leaves them out of /lineage, from a dataset and from a job', async () => {
    const fromDataset = await lineageGraph(world, { nodeId: ds(0), depth: 5 });
    const fromJob = await lineageGraph(world, { nodeId: job(0), depth: 5 });

    for (const graph of [fromDataset, fromJob]) {
      expect(graph?.nodes.map((node) => node.id).sort()).toEqual([ds(0), ds(1), job(0)].sort());
    }
  });

  it('leaves them out of the dk lineage view, up and down', async () => {
    const down = await directedLineage(world, { nodeId: ds(0), depth: 5, direction: 'downstream' });
    const up = await directedLineage(world, { nodeId: ds(1), depth: 5, direction: 'upstream' });

    expect(down?.downstream.map((step) => step.id)).toEqual([job(0), ds(1)]);
    expect(down?.edges).toEqual([
      { origin: ds(0), destination: job(0) },
      { origin: job(0), destination: ds(1) },
    ]);
    expect(up?.upstream.map((step) => step.id)).toEqual([job(0), ds(0)]);
  });

  it('leaves a consumer that does not name the field as its input out of column lineage', async () => {
    const fields = portOf({
      [col(0)]: { in: [], out: [col(1), col(2)] },
      [col(1)]: { in: [col(0)], out: [] },
      [col(2)]: { in: [], out: [] },
    });

    const graph = await columnLineage(fields, { nodeIds: [col(0)], depth: 0, withDownstream: true });

    expect(graph?.nodes.map((node) => node.id)).toEqual([col(0), col(1)]);
  });
});
