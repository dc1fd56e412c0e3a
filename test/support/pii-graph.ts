import fc from 'fast-check';
import type { CatalogDataSet, ColumnEdge, DataSetEdge } from '../../lib/domain/governance/pii-flow.js';

/*
 * Random governance graphs and an oracle written from the definitions alone, for the property tests of the
 * PII analysis and the promotion gate: taint is a fixed point over every edge (not a breadth-first walk),
 * distances come from relaxing every edge until nothing changes, and nothing from the implementation is
 * reused. Graphs mix every kind of edge: Transforms (inputs × outputs, packages `sales/t<n>`), OpenLineage
 * dataset edges, `from` columns (same- and cross-namespace, some naming DataSets or columns that do not
 * exist) and OpenLineage column lineage, with cycles and self-loops.
 */

export const classifications = [undefined, 'public', 'internal', 'confidential', 'restricted'] as const;
const columnNames = ['a', 'b', 'c'] as const;

export interface GeneratedGraph {
  readonly dataSets: CatalogDataSet[];
  readonly lineageEdges: DataSetEdge[];
  readonly columnEdges: ColumnEdge[];
}

export const graphArbitrary: fc.Arbitrary<GeneratedGraph> = fc.integer({ min: 1, max: 7 }).chain((count) => {
  const names = Array.from({ length: count }, (_, index) => ({
    namespace: index % 3 === 2 ? 'crm' : 'sales',
    name: `d${index}`,
  }));
  const index = fc.integer({ min: 0, max: count - 1 });
  const field = fc.record({
    name: fc.constantFrom(...columnNames),
    pii: fc.option(fc.boolean(), { nil: undefined }),
    from: fc.option(
      fc.oneof(
        // Same namespace, other namespace written out, unknown DataSet, not a column at all.
        fc.tuple(index, fc.constantFrom(...columnNames)).map(([i, c]) => {
          const target = names[i] ?? { namespace: 'sales', name: 'd0' };
          return target.namespace === 'sales'
            ? `${target.name}.${c}`
            : `${target.namespace}/${target.name}.${c}`;
        }),
        fc.constant('nowhere.a'),
        fc.constant('not-a-column'),
      ),
      { nil: undefined },
    ),
  });
  const dataSet = fc.record({
    classification: fc.constantFrom(...classifications),
    schema: fc.option(fc.uniqueArray(field, { selector: (f) => f.name, maxLength: 3 }), { nil: undefined }),
  });
  const transform = fc.record({
    inputs: fc.uniqueArray(index, { maxLength: 3 }),
    outputs: fc.uniqueArray(index, { maxLength: 3 }),
  });
  return fc
    .record({
      contracts: fc.array(dataSet, { minLength: count, maxLength: count }),
      transforms: fc.array(transform, { maxLength: 4 }),
      lineage: fc.array(fc.tuple(index, index, fc.constantFrom('spark/etl', 'airflow/load')), {
        maxLength: 5,
      }),
      columns: fc.array(
        fc.tuple(index, fc.constantFrom(...columnNames), index, fc.constantFrom(...columnNames)),
        { maxLength: 6 },
      ),
    })
    .map(({ contracts, transforms, lineage, columns }): GeneratedGraph => {
      const ref = (i: number) => names[i] ?? { namespace: 'sales', name: 'd0' };
      const dataSets = names.map((name, i): CatalogDataSet => {
        const contract = contracts[i];
        const reads = transforms.flatMap((t, n) => (t.inputs.includes(i) ? [n] : []));
        const writes = transforms.flatMap((t, n) => (t.outputs.includes(i) ? [n] : []));
        const pkg = (n: number) => ({ namespace: 'sales', name: `t${n}`, version: '1.0.0' });
        return {
          ...name,
          ...(contract?.classification === undefined ? {} : { classification: contract.classification }),
          ...(contract?.schema === undefined ? {} : { schema: contract.schema }),
          producers: writes.map(pkg),
          consumers: reads.map(pkg),
        };
      });
      return {
        dataSets,
        lineageEdges: lineage.map(([from, to, job]) => {
          const [namespace = '', jobName = ''] = job.split('/');
          return { from: ref(from), to: ref(to), via: { type: 'job', namespace, name: jobName } };
        }),
        columnEdges: columns.map(([from, fromColumn, to, toColumn]) => ({
          from: { dataset: ref(from), column: fromColumn },
          to: { dataset: ref(to), column: toColumn },
          via: { type: 'column-lineage' },
        })),
      };
    });
});

export const id = (d: { namespace: string; name: string }) => `${d.namespace}/${d.name}`;
export const col = (c: { dataset: { namespace: string; name: string }; column: string }) =>
  `${id(c.dataset)}.${c.column}`;

/** The oracle: what the definitions say, computed the slow, obvious way. */
export function oracle(graph: GeneratedGraph) {
  const known = new Set(graph.dataSets.map(id));
  const byId = new Map(graph.dataSets.map((d) => [id(d), d]));
  // Column edges: `from` fields that name a known DataSet, then lineage column edges between known DataSets.
  const columnPairs: {
    from: string;
    fromDs: string;
    to: string;
    toDs: string;
    fromCol: string;
    toCol: string;
    via: string;
  }[] = [];
  for (const d of graph.dataSets) {
    for (const f of d.schema ?? []) {
      if (f.from === undefined) continue;
      const m = /^(?:(.+)\/)?([^/.]+)\.(.+)$/.exec(f.from);
      if (m === null) continue;
      const source = `${m[1] ?? d.namespace}/${m[2]}`;
      if (!known.has(source)) continue;
      columnPairs.push({
        from: `${source}.${m[3]}`,
        fromDs: source,
        to: `${id(d)}.${f.name}`,
        toDs: id(d),
        fromCol: m[3] ?? '',
        toCol: f.name,
        via: 'contract',
      });
    }
  }
  for (const e of graph.columnEdges) {
    columnPairs.push({
      from: col(e.from),
      fromDs: id(e.from.dataset),
      to: col(e.to),
      toDs: id(e.to.dataset),
      fromCol: e.from.column,
      toCol: e.to.column,
      via: 'column',
    });
  }
  // Dataset edges with how: Transforms, lineage, and every column edge.
  const edges: { from: string; to: string; via: string }[] = [];
  const transforms = new Set(
    graph.dataSets.flatMap((d) => [...d.consumers, ...d.producers].map((p) => p.name)),
  );
  for (const t of transforms) {
    const ins = graph.dataSets.filter((d) => d.consumers.some((c) => c.name === t)).map(id);
    const outs = graph.dataSets.filter((d) => d.producers.some((p) => p.name === t)).map(id);
    for (const i of ins) for (const o of outs) edges.push({ from: i, to: o, via: `transform:${t}` });
  }
  for (const e of graph.lineageEdges)
    edges.push({ from: id(e.from), to: id(e.to), via: `job:${e.via.type === 'job' ? e.via.name : ''}` });
  for (const c of columnPairs) edges.push({ from: c.fromDs, to: c.toDs, via: c.via });
  const real = edges.filter((e) => e.from !== e.to);

  const sources = graph.dataSets.filter((d) => (d.schema ?? []).some((f) => f.pii === true)).map(id);
  const reachFrom = (starts: string[]) => {
    const set = new Set(starts);
    for (let changed = true; changed; ) {
      changed = false;
      for (const e of real)
        if (set.has(e.from) && !set.has(e.to)) {
          set.add(e.to);
          changed = true;
        }
    }
    return set;
  };
  const tainted = reachFrom(sources);
  const dist = new Map(sources.map((s) => [s, 0]));
  for (let changed = true; changed; ) {
    changed = false;
    for (const e of real) {
      const d = dist.get(e.from);
      if (d !== undefined && (dist.get(e.to) ?? Number.POSITIVE_INFINITY) > d + 1) {
        dist.set(e.to, d + 1);
        changed = true;
      }
    }
  }
  const marked = graph.dataSets.flatMap((d) =>
    (d.schema ?? []).filter((f) => f.pii === true).map((f) => `${id(d)}.${f.name}`),
  );
  const colTainted = new Set(marked);
  const colDist = new Map(marked.map((c) => [c, 0]));
  for (let changed = true; changed; ) {
    changed = false;
    for (const c of columnPairs) {
      if (c.from === c.to) continue;
      const d = colDist.get(c.from);
      if (d !== undefined && (colDist.get(c.to) ?? Number.POSITIVE_INFINITY) > d + 1) {
        colDist.set(c.to, d + 1);
        changed = true;
      }
      if (colTainted.has(c.from) && !colTainted.has(c.to)) {
        colTainted.add(c.to);
        changed = true;
      }
    }
  }
  const strong = new Set(['confidential', 'restricted']);
  const underclassified = [...tainted].filter((t) => !strong.has(byId.get(t)?.classification ?? '')).sort();
  const unmarked = [...colTainted]
    .filter((c) => !marked.includes(c))
    .filter((c) => {
      const ds = graph.dataSets.find((d) => c.startsWith(`${id(d)}.`));
      return ds?.schema !== undefined;
    })
    .sort();
  const flows = new Map<string, { vias: Set<string>; columns: Set<string>; sources: string[] }>();
  for (const e of real) {
    if (!tainted.has(e.from)) continue;
    const key = `${e.from} -> ${e.to}`;
    const entry = flows.get(key) ?? {
      vias: new Set(),
      columns: new Set(),
      sources: sources.filter((s) => reachFrom([s]).has(e.from)).sort(),
    };
    entry.vias.add(e.via);
    flows.set(key, entry);
  }
  for (const c of columnPairs) {
    if (c.fromDs === c.toDs || !colTainted.has(c.from)) continue;
    flows.get(`${c.fromDs} -> ${c.toDs}`)?.columns.add(`${c.fromCol}>${c.toCol}`);
  }
  return { sources, tainted, dist, colDist, underclassified, unmarked, flows, real, columnPairs, marked };
}
