import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type LineageBinding,
  type LineageView,
  projectLineage,
  unreadDownstream,
} from '../../../lib/domain/governance/lineage-projection.js';
import type {
  DatasetFieldNodeId,
  DatasetNodeId,
  JobNodeId,
  NodeId,
} from '../../../lib/domain/lineage/node-id.js';
import type { NodeAdjacency } from '../../../lib/ports/lineage-graph.js';

const ds = (i: number): DatasetNodeId => `dataset:s3://lake:t${i}`;
const job = (i: number): JobNodeId => `job:spark:j${i}`;

interface RandomLineage {
  readonly jobs: { readonly reads: number[]; readonly writes: number[] }[];
  /** Dataset-side reader entries no job confirms (a job that stopped reading it). */
  readonly stale: [number, number][];
  /** Which datasets are DataKit DataSets (`d{i}`). */
  readonly bound: number[];
}

function viewOf(lineage: RandomLineage, datasets: number): LineageView {
  const adjacency = new Map<NodeId, NodeAdjacency>();
  const jobs = new Map<JobNodeId, { namespace: string; name: string }>();
  for (let d = 0; d < datasets; d++) {
    const readers = lineage.jobs.flatMap((j, n) => (j.reads.includes(d) ? [job(n)] : []));
    const writers = lineage.jobs.flatMap((j, n) => (j.writes.includes(d) ? [job(n)] : []));
    const stale = lineage.stale.filter(([s]) => s === d).map(([, n]) => job(n));
    adjacency.set(ds(d), { in: writers, out: [...new Set([...readers, ...stale])] });
  }
  lineage.jobs.forEach((j, n) => {
    adjacency.set(job(n), { in: j.reads.map(ds), out: j.writes.map(ds) });
    jobs.set(job(n), { namespace: 'spark', name: `j${n}` });
  });
  const bindings = new Map<DatasetNodeId, LineageBinding[]>(
    lineage.bound.map((d) => [ds(d), [{ dataSet: { namespace: 'sales', name: `d${d}` }, cell: 'blue' }]]),
  );
  return { adjacency, jobs, fields: new Map(), bindings };
}

/** Bound → bound through jobs and unbound datasets, with the job that wrote the target: by definition. */
function expectedEdges(lineage: RandomLineage): Set<string> {
  const bound = new Set(lineage.bound);
  const edges = new Set<string>();
  for (const start of bound) {
    const seen = new Set([start]);
    const frontier = [start];
    while (frontier.length > 0) {
      const d = frontier.pop() as number;
      lineage.jobs.forEach((j, n) => {
        if (!j.reads.includes(d)) return;
        for (const w of j.writes) {
          if (bound.has(w)) edges.add(`d${start}>d${w}@j${n}`);
          else if (!seen.has(w)) {
            seen.add(w);
            frontier.push(w);
          }
        }
      });
    }
  }
  return edges;
}

describe('the OpenLineage graph projected onto DataKit DataSets', () => {
  it('links each DataKit DataSet to those its readers write, through unknown datasets, ignoring unconfirmed edges', () => {
    const size = 6;
    const index = fc.integer({ min: 0, max: size - 1 });
    fc.assert(
      fc.property(
        fc.record({
          jobs: fc.array(
            fc.record({
              reads: fc.uniqueArray(index, { maxLength: 3 }),
              writes: fc.uniqueArray(index, { maxLength: 3 }),
            }),
            { maxLength: 5 },
          ),
          stale: fc.array(fc.tuple(index, fc.integer({ min: 0, max: 4 })), { maxLength: 3 }),
          bound: fc.uniqueArray(index, { maxLength: size }),
        }),
        (lineage) => {
          const { dataSetEdges } = projectLineage(viewOf(lineage, size));
          const actual = new Set(
            dataSetEdges.map(
              (edge) => `${edge.from.name}>${edge.to.name}@${edge.via.type === 'job' ? edge.via.name : ''}`,
            ),
          );
          expect(actual).toEqual(expectedEdges(lineage));
          for (const edge of dataSetEdges)
            expect(edge.via).toMatchObject({ type: 'job', namespace: 'spark', cell: 'blue' });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('links columns along column lineage to the next DataKit column, through columns of unknown datasets', () => {
    const field = (dataset: number, name: string): DatasetFieldNodeId =>
      `datasetField:s3://lake:t${dataset}:${name}`;
    // t0.email (DataKit) → t1.mail (unknown) → t2.contact (DataKit); t0.email → t3.x, which does not list it.
    const adjacency = new Map<NodeId, NodeAdjacency>([
      [field(0, 'email'), { in: [], out: [field(1, 'mail'), field(3, 'x')] }],
      [field(1, 'mail'), { in: [field(0, 'email')], out: [field(2, 'contact')] }],
      [field(2, 'contact'), { in: [field(1, 'mail')], out: [] }],
      [field(3, 'x'), { in: [], out: [] }],
    ]);
    const fields = new Map(
      [0, 1, 2, 3]
        .map((d) => [d, ['email', 'mail', 'contact', 'x'][d] ?? ''] as const)
        .map(([d, name]) => [field(d, name), { dataset: ds(d), field: name }] as const),
    );
    const bindings = new Map<DatasetNodeId, LineageBinding[]>([
      [ds(0), [{ dataSet: { namespace: 'sales', name: 'users' } }]],
      [ds(2), [{ dataSet: { namespace: 'sales', name: 'contacts' } }]],
      [ds(3), [{ dataSet: { namespace: 'sales', name: 'other' } }]],
    ]);
    const view: LineageView = { adjacency, jobs: new Map(), fields, bindings };
    expect(projectLineage(view).columnEdges).toEqual([
      {
        from: { dataset: { namespace: 'sales', name: 'users' }, column: 'email' },
        to: { dataset: { namespace: 'sales', name: 'contacts' }, column: 'contact' },
        via: { type: 'column-lineage' },
      },
    ]);
  });

  it('asks for the nodes a walk from the roots meets that are not read yet, stopping at DataKit DataSets', () => {
    // t0 (DataKit) → j0 → t1 (unknown) → j1 → t2 (DataKit) → j2 → t3.
    const adjacency = new Map<NodeId, NodeAdjacency>([
      [ds(0), { in: [], out: [job(0)] }],
      [job(0), { in: [ds(0)], out: [ds(1)] }],
      [ds(1), { in: [job(0)], out: [job(1)] }],
    ]);
    const bindings = new Map<DatasetNodeId, LineageBinding[]>([
      [ds(0), [{ dataSet: { namespace: 'sales', name: 'a' } }]],
      [ds(2), [{ dataSet: { namespace: 'sales', name: 'c' } }]],
    ]);
    const view: LineageView = { adjacency, jobs: new Map(), fields: new Map(), bindings };
    const read = new Set<NodeId>(adjacency.keys());
    expect(unreadDownstream(view, read, [ds(0)])).toEqual([job(1)]);
    adjacency.set(job(1), { in: [ds(1)], out: [ds(2)] });
    read.add(job(1));
    expect(unreadDownstream(view, read, [ds(0)])).toEqual([ds(2)]);
    adjacency.set(ds(2), { in: [job(1)], out: [job(2)] });
    read.add(ds(2));
    // t2 is a DataKit DataSet: the walk stops there until PII reaches it and it becomes a root.
    expect(unreadDownstream(view, read, [ds(0)])).toEqual([]);
    expect(unreadDownstream(view, read, [ds(0), ds(2)])).toEqual([job(2)]);
  });
});
