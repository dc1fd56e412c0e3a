import type { Deprecation } from '../../contracts/api/deprecations.js';
import type { FlowVia, PiiFlow, Violation } from '../../contracts/api/governance.js';
import { PII_CLASSIFICATIONS } from './classification.js';

/** A DataSet's identity. */
export interface DataSetKey {
  readonly namespace: string;
  readonly name: string;
}

/** A package version (the latest registered one, in the catalog). */
export interface PackageRef {
  readonly namespace: string;
  readonly name: string;
  readonly version: string;
}

/** A field of a DataSet contract as the analysis reads it. */
export interface CatalogField {
  readonly name: string;
  readonly pii?: boolean | undefined;
  /** `dataset.column` (in the DataSet's namespace) or `namespace/dataset.column`: where the column comes from. */
  readonly from?: string | undefined;
}

/** A registered DataSet: its contract (when declared) and the Transforms reading and writing it. */
export interface CatalogDataSet extends DataSetKey {
  readonly classification?: string | undefined;
  /** The inline schema; undefined when the contract has none (undeclared, or `schemaRef`). */
  readonly schema?: readonly CatalogField[] | undefined;
  readonly declaredBy?: PackageRef | undefined;
  readonly producers: readonly PackageRef[];
  readonly consumers: readonly PackageRef[];
  readonly deprecation?: Deprecation | undefined;
}

/** A registered package (its latest version). */
export interface CatalogPackage extends PackageRef {
  readonly kind: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly deprecation?: Deprecation | undefined;
}

/** Data moving from one DataSet to another, and how. */
export interface DataSetEdge {
  readonly from: DataSetKey;
  readonly to: DataSetKey;
  readonly via: FlowVia;
}

/** A column of a DataSet. */
export interface ColumnRef {
  readonly dataset: DataSetKey;
  readonly column: string;
}

/** A column computed from another. */
export interface ColumnEdge {
  readonly from: ColumnRef;
  readonly to: ColumnRef;
  readonly via: FlowVia;
}

/**
 * Everything the PII analysis reads: the registry's DataSets and packages, and the OpenLineage graph
 * projected onto DataKit DataSets (edges between DataSets the registry knows; see `lineage-projection.ts`).
 */
export interface GovernanceInputs {
  readonly dataSets: readonly CatalogDataSet[];
  readonly packages: readonly CatalogPackage[];
  readonly lineage: {
    readonly dataSetEdges: readonly DataSetEdge[];
    readonly columnEdges: readonly ColumnEdge[];
  };
}

/** The key of a DataSet inside the analysis (namespaces may hold `/` and `.`, names never do). */
export const dataSetKeyOf = (dataSet: DataSetKey): string => `${dataSet.namespace}\u0000${dataSet.name}`;
const columnKeyOf = (column: ColumnRef): string => `${dataSetKeyOf(column.dataset)}\u0000${column.column}`;

/** `namespace/name`, as the report prints a DataSet. */
export const dataSetLabel = (dataSet: DataSetKey): string => `${dataSet.namespace}/${dataSet.name}`;
const columnLabel = (column: ColumnRef): string => `${dataSetLabel(column.dataset)}.${column.column}`;

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byLabel = (a: DataSetKey, b: DataSetKey): number => compare(dataSetLabel(a), dataSetLabel(b));

/** Classifications weaker than PII needs: anything but confidential and restricted, or none. */
export function isBelowPiiClassification(classification: string | undefined): boolean {
  const strong: ReadonlySet<string> = PII_CLASSIFICATIONS;
  return classification === undefined || !strong.has(classification);
}

/**
 * Where a `from` column comes from: `users.email` is column `email` of DataSet `users` in the same
 * namespace, `crm/users.email` of DataSet `users` in namespace `crm`. Undefined when it names no column.
 */
export function parseFromColumn(from: string, namespace: string): ColumnRef | undefined {
  const slash = from.lastIndexOf('/');
  const rest = from.slice(slash + 1);
  const dot = rest.indexOf('.');
  const dataset = rest.slice(0, dot);
  const column = rest.slice(dot + 1);
  const ns = slash < 0 ? namespace : from.slice(0, slash);
  if (dot <= 0 || column === '' || ns === '') return undefined;
  return { dataset: { namespace: ns, name: dataset }, column };
}

/** The edges the registry itself says data moves along: Transforms (input → output) and `from` columns. */
export function registryEdges(dataSets: readonly CatalogDataSet[]): {
  dataSetEdges: DataSetEdge[];
  columnEdges: ColumnEdge[];
} {
  const reads = new Map<string, { ref: PackageRef; inputs: DataSetKey[]; outputs: DataSetKey[] }>();
  const transform = (ref: PackageRef) => {
    const key = `${ref.namespace}\u0000${ref.name}`;
    let entry = reads.get(key);
    if (entry === undefined) {
      entry = { ref, inputs: [], outputs: [] };
      reads.set(key, entry);
    }
    return entry;
  };
  for (const dataSet of dataSets) {
    for (const consumer of dataSet.consumers) transform(consumer).inputs.push(dataSet);
    for (const producer of dataSet.producers) transform(producer).outputs.push(dataSet);
  }
  const dataSetEdges: DataSetEdge[] = [];
  for (const { ref, inputs, outputs } of reads.values()) {
    for (const input of inputs) {
      for (const output of outputs) {
        dataSetEdges.push({
          from: key(input),
          to: key(output),
          via: { type: 'transform', namespace: ref.namespace, name: ref.name, version: ref.version },
        });
      }
    }
  }
  const known = new Set(dataSets.map(dataSetKeyOf));
  const columnEdges: ColumnEdge[] = [];
  for (const dataSet of dataSets) {
    for (const field of dataSet.schema ?? []) {
      const source = field.from === undefined ? undefined : parseFromColumn(field.from, dataSet.namespace);
      if (source === undefined || !known.has(dataSetKeyOf(source.dataset))) continue;
      columnEdges.push({
        from: source,
        to: { dataset: key(dataSet), column: field.name },
        via: { type: 'contract' },
      });
    }
  }
  return { dataSetEdges, columnEdges };
}

const key = (dataSet: DataSetKey): DataSetKey => ({ namespace: dataSet.namespace, name: dataSet.name });

/** Breadth-first from `starts` (sorted, so paths are deterministic): each node reached with its parent. */
function breadthFirst(
  starts: readonly string[],
  next: (node: string) => readonly string[],
): Map<string, string | undefined> {
  const parent = new Map<string, string | undefined>();
  const queue: string[] = [];
  for (const start of [...starts].sort(compare)) {
    if (parent.has(start)) continue;
    parent.set(start, undefined);
    queue.push(start);
  }
  // The iterator sees what is pushed while it runs: a queue.
  for (const node of queue) {
    for (const to of next(node)) {
      if (parent.has(to)) continue;
      parent.set(to, node);
      queue.push(to);
    }
  }
  return parent;
}

/** The path from a start of `breadthFirst` to `node`, start first. */
function pathTo(parent: ReadonlyMap<string, string | undefined>, node: string): string[] {
  const path: string[] = [];
  for (let at: string | undefined = node; at !== undefined; at = parent.get(at)) path.unshift(at);
  return path;
}

/** Sorted adjacency lists of a graph given as `[from, to]` pairs. */
function adjacency(pairs: Iterable<readonly [string, string]>): (node: string) => readonly string[] {
  const out = new Map<string, Set<string>>();
  for (const [from, to] of pairs) {
    if (from === to) continue;
    let targets = out.get(from);
    if (targets === undefined) {
      targets = new Set();
      out.set(from, targets);
    }
    targets.add(to);
  }
  const sorted = new Map([...out].map(([from, targets]) => [from, [...targets].sort(compare)]));
  return (node) => sorted.get(node) ?? [];
}

/** What the analysis found: which DataSets and columns hold or receive PII, and how. */
export interface PiiAnalysis {
  readonly dataSets: ReadonlyMap<string, CatalogDataSet>;
  /** Every edge between known DataSets: Transforms, OpenLineage jobs, columns (self-loops dropped). */
  readonly edges: readonly DataSetEdge[];
  /** DataSets with a `pii: true` field. */
  readonly sources: ReadonlySet<string>;
  /** Sources and everything downstream of one, each with its nearest source's path (source first). */
  readonly reached: ReadonlyMap<string, readonly string[]>;
  /** For each reached DataSet, the sources whose data gets there. */
  readonly sourcesOf: ReadonlyMap<string, ReadonlySet<string>>;
  /** Marked columns and every column computed from one, each with its path (marked column first). */
  readonly reachedColumns: ReadonlyMap<
    string,
    { readonly column: ColumnRef; readonly path: readonly string[] }
  >;
  readonly flows: readonly PiiFlow[];
  readonly violations: readonly Violation[];
}

/**
 * Follows PII through the graph: from every DataSet with `pii: true` fields, downstream along Transforms,
 * OpenLineage jobs and columns (a column edge is also a DataSet edge: data moved), and at column level from
 * every marked column along `from` and OpenLineage column lineage. A DataSet fed by PII must be classified
 * confidential or restricted; a column computed from a PII column must be marked `pii: true`. Dataset-level
 * flows are conservative: column lineage adds detail but never clears a flow, since producers report it
 * for some fields only.
 */
export function analysePii(inputs: GovernanceInputs): PiiAnalysis {
  const dataSets = new Map(inputs.dataSets.map((dataSet) => [dataSetKeyOf(dataSet), dataSet]));
  const registry = registryEdges(inputs.dataSets);
  const known = (edge: { from: DataSetKey; to: DataSetKey }) =>
    dataSets.has(dataSetKeyOf(edge.from)) && dataSets.has(dataSetKeyOf(edge.to));
  const columnEdges = [...registry.columnEdges, ...inputs.lineage.columnEdges].filter((edge) =>
    known({ from: edge.from.dataset, to: edge.to.dataset }),
  );
  const edges: DataSetEdge[] = [
    ...registry.dataSetEdges,
    ...inputs.lineage.dataSetEdges,
    ...columnEdges.map((edge) => ({ from: edge.from.dataset, to: edge.to.dataset, via: edge.via })),
  ].filter((edge) => known(edge) && dataSetKeyOf(edge.from) !== dataSetKeyOf(edge.to));

  const sources = new Set(
    inputs.dataSets
      .filter((dataSet) => (dataSet.schema ?? []).some((field) => field.pii === true))
      .map(dataSetKeyOf),
  );
  const next = adjacency(edges.map((edge) => [dataSetKeyOf(edge.from), dataSetKeyOf(edge.to)] as const));
  const parents = breadthFirst([...sources], next);
  const reached = new Map([...parents.keys()].map((node) => [node, pathTo(parents, node)]));
  const sourcesOf = new Map<string, Set<string>>();
  for (const source of sources) {
    for (const node of breadthFirst([source], next).keys()) {
      let of = sourcesOf.get(node);
      if (of === undefined) {
        of = new Set();
        sourcesOf.set(node, of);
      }
      of.add(source);
    }
  }

  const columns = new Map<string, ColumnRef>();
  for (const edge of columnEdges) {
    columns.set(columnKeyOf(edge.from), edge.from);
    columns.set(columnKeyOf(edge.to), edge.to);
  }
  const marked = new Set<string>();
  for (const dataSet of inputs.dataSets) {
    for (const field of dataSet.schema ?? []) {
      if (field.pii !== true) continue;
      const column = { dataset: key(dataSet), column: field.name };
      columns.set(columnKeyOf(column), column);
      marked.add(columnKeyOf(column));
    }
  }
  const columnParents = breadthFirst(
    [...marked],
    adjacency(columnEdges.map((edge) => [columnKeyOf(edge.from), columnKeyOf(edge.to)] as const)),
  );
  const columnAt = (node: string): ColumnRef => {
    const column = columns.get(node);
    if (column === undefined) throw new Error('a column edge names a column the analysis did not record');
    return column;
  };
  const reachedColumns = new Map(
    [...columnParents.keys()].map(
      (node) =>
        [
          node,
          {
            column: columnAt(node),
            path: pathTo(columnParents, node).map((step) => columnLabel(columnAt(step))),
          },
        ] as const,
    ),
  );

  const flows = piiFlows(edges, columnEdges, reached, sourcesOf, reachedColumns, dataSets);
  const violations = [
    ...underclassified(reached, dataSets),
    ...unmarkedColumns(reachedColumns, marked, dataSets),
  ];
  return { dataSets, edges, sources, reached, sourcesOf, reachedColumns, flows, violations };
}

function labelOfKey(dataSets: ReadonlyMap<string, CatalogDataSet>, node: string): string {
  const dataSet = dataSets.get(node);
  return dataSet === undefined ? node : dataSetLabel(dataSet);
}

/** One flow per pair of DataSets along which PII moves, with every way it moves and the PII columns. */
function piiFlows(
  edges: readonly DataSetEdge[],
  columnEdges: readonly ColumnEdge[],
  reached: ReadonlyMap<string, readonly string[]>,
  sourcesOf: ReadonlyMap<string, ReadonlySet<string>>,
  reachedColumns: ReadonlyMap<string, unknown>,
  dataSets: ReadonlyMap<string, CatalogDataSet>,
): PiiFlow[] {
  const pairs = new Map<
    string,
    {
      from: DataSetKey;
      to: DataSetKey;
      via: Map<string, FlowVia>;
      columns: Map<string, { from: string; to: string }>;
    }
  >();
  const pair = (from: DataSetKey, to: DataSetKey) => {
    const id = `${dataSetKeyOf(from)}\u0001${dataSetKeyOf(to)}`;
    let entry = pairs.get(id);
    if (entry === undefined) {
      entry = { from: key(from), to: key(to), via: new Map(), columns: new Map() };
      pairs.set(id, entry);
    }
    return entry;
  };
  for (const edge of edges) {
    if (!reached.has(dataSetKeyOf(edge.from))) continue;
    pair(edge.from, edge.to).via.set(JSON.stringify(edge.via), edge.via);
  }
  for (const edge of columnEdges) {
    if (!reachedColumns.has(columnKeyOf(edge.from))) continue;
    if (dataSetKeyOf(edge.from.dataset) === dataSetKeyOf(edge.to.dataset)) continue;
    pair(edge.from.dataset, edge.to.dataset).columns.set(`${edge.from.column}\u0000${edge.to.column}`, {
      from: edge.from.column,
      to: edge.to.column,
    });
  }
  return [...pairs.values()]
    .map((entry): PiiFlow => {
      const to = dataSets.get(dataSetKeyOf(entry.to));
      const sources = [...(sourcesOf.get(dataSetKeyOf(entry.from)) ?? [])]
        .map((source) => dataSets.get(source))
        .filter((source): source is CatalogDataSet => source !== undefined)
        .map(key)
        .sort(byLabel);
      return {
        from: entry.from,
        to: entry.to,
        ...(to?.classification === undefined ? {} : { toClassification: to.classification }),
        sources,
        via: [...entry.via.entries()].sort(([a], [b]) => compare(a, b)).map(([, via]) => via),
        columns: [...entry.columns.values()].sort((a, b) => compare(a.from, b.from) || compare(a.to, b.to)),
      };
    })
    .sort((a, b) => byLabel(a.from, b.from) || byLabel(a.to, b.to));
}

/** PII_UNDERCLASSIFIED: every DataSet holding or fed by PII that is classified below confidential. */
function underclassified(
  reached: ReadonlyMap<string, readonly string[]>,
  dataSets: ReadonlyMap<string, CatalogDataSet>,
): Violation[] {
  const violations: Violation[] = [];
  for (const [node, path] of reached) {
    const dataSet = dataSets.get(node);
    if (dataSet === undefined || !isBelowPiiClassification(dataSet.classification)) continue;
    const labels = path.map((step) => labelOfKey(dataSets, step));
    const current =
      dataSet.classification === undefined
        ? 'has no classification'
        : `is classified ${dataSet.classification}`;
    const origin =
      labels.length === 1 ? 'holds PII fields' : `receives PII from ${labels[0]} (${labels.join(' → ')})`;
    violations.push({
      code: 'PII_UNDERCLASSIFIED',
      dataset: key(dataSet),
      ...(dataSet.classification === undefined ? {} : { classification: dataSet.classification }),
      path: labels,
      message: `DataSet ${dataSetLabel(dataSet)} ${current} but ${origin}; classify it confidential or restricted`,
    });
  }
  return violations.sort((a, b) => byLabel(a.dataset, b.dataset));
}

/** PII_COLUMN_UNMARKED: every column computed from a PII column that its DataSet's schema does not mark. */
function unmarkedColumns(
  reachedColumns: PiiAnalysis['reachedColumns'],
  marked: ReadonlySet<string>,
  dataSets: ReadonlyMap<string, CatalogDataSet>,
): Violation[] {
  const violations: Violation[] = [];
  for (const [node, { column, path }] of reachedColumns) {
    if (marked.has(node)) continue;
    const dataSet = dataSets.get(dataSetKeyOf(column.dataset));
    // Without an inline schema there is nothing to mark (a schemaRef lives elsewhere; undeclared has none).
    if (dataSet?.schema === undefined) continue;
    const inSchema = dataSet.schema.some((field) => field.name === column.column);
    violations.push({
      code: 'PII_COLUMN_UNMARKED',
      dataset: key(dataSet),
      ...(dataSet.classification === undefined ? {} : { classification: dataSet.classification }),
      column: column.column,
      path: [...path],
      message: `Column ${column.column} of ${dataSetLabel(dataSet)} is computed from PII column ${path[0]} but ${
        inSchema ? 'is not marked pii: true' : 'is not in the contract; add it with pii: true'
      }`,
    });
  }
  return violations.sort((a, b) => byLabel(a.dataset, b.dataset) || compare(a.column ?? '', b.column ?? ''));
}
