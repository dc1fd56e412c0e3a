import type { Deprecation } from '../../contracts/api/deprecations.js';
import type { GovernanceFilter, GovernanceReport } from '../../contracts/api/governance.js';
import { sunsetPassed } from './deprecation.js';
import {
  analysePii,
  type CatalogDataSet,
  type DataSetKey,
  dataSetKeyOf,
  dataSetLabel,
  type GovernanceInputs,
  type PackageRef,
} from './pii-flow.js';

/** Where things are deployed: the cells of each DataSet and package (keys from `dataSetKeyOf`, `packageKeyOf`). */
export interface Placements {
  readonly dataSets: ReadonlyMap<string, ReadonlySet<string>>;
  readonly packages: ReadonlyMap<string, ReadonlySet<string>>;
}

/** What a report is built from: the analysis inputs, where things run, and how much lineage was read. */
export interface ReportInputs extends GovernanceInputs {
  readonly placements: Placements;
  readonly lineageRead: { readonly complete: boolean; readonly nodesRead: number };
}

export const packageKeyOf = (ref: { readonly namespace: string; readonly name: string }): string =>
  `${ref.namespace}\u0000${ref.name}`;

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const roles = ['declares', 'reads', 'writes'] as const;

/**
 * The governance report (`dk governance report`): packages with the classification and PII of their
 * DataSets, where PII flows, every violation, and what is deprecated — computed over the whole graph, then
 * narrowed by the filter (a flow is kept when either end matches; the rest by their DataSet or package).
 */
export function buildGovernanceReport(
  inputs: ReportInputs,
  filter: GovernanceFilter,
  now: Date,
): GovernanceReport {
  const analysis = analysePii(inputs);
  const fedByPii = (dataSet: DataSetKey) =>
    [...(analysis.sourcesOf.get(dataSetKeyOf(dataSet)) ?? [])].some(
      (source) => source !== dataSetKeyOf(dataSet),
    );
  const piiFieldsOf = (dataSet: CatalogDataSet) =>
    (dataSet.schema ?? []).filter((field) => field.pii === true).map((field) => field.name);
  const cellsOf = (map: Placements['dataSets'], key: string) => map.get(key) ?? new Set<string>();

  const dataSetMatches = (dataSet: DataSetKey): boolean => {
    const known = analysis.dataSets.get(dataSetKeyOf(dataSet));
    return (
      (filter.namespace === undefined || dataSet.namespace === filter.namespace) &&
      (filter.classification === undefined ||
        (known?.classification ?? 'unclassified') === filter.classification) &&
      (filter.cell === undefined ||
        cellsOf(inputs.placements.dataSets, dataSetKeyOf(dataSet)).has(filter.cell))
    );
  };

  // Each DataSet under every package that declares, reads or writes it: one pass, not packages × DataSets.
  const byPackage = new Map<string, { dataSet: CatalogDataSet; role: (typeof roles)[number] }[]>();
  for (const dataSet of inputs.dataSets) {
    const add = (ref: PackageRef | undefined, role: (typeof roles)[number]) => {
      if (ref === undefined) return;
      const entries = byPackage.get(packageKeyOf(ref)) ?? [];
      if (!entries.some((entry) => entry.dataSet === dataSet && entry.role === role))
        entries.push({ dataSet, role });
      byPackage.set(packageKeyOf(ref), entries);
    };
    add(dataSet.declaredBy, 'declares');
    for (const consumer of dataSet.consumers) add(consumer, 'reads');
    for (const producer of dataSet.producers) add(producer, 'writes');
  }
  const packages = inputs.packages
    .map((pkg) => {
      const dataSets = (byPackage.get(packageKeyOf(pkg)) ?? [])
        .map(({ dataSet, role }) => ({
          namespace: dataSet.namespace,
          name: dataSet.name,
          role,
          ...(dataSet.classification === undefined ? {} : { classification: dataSet.classification }),
          piiFields: piiFieldsOf(dataSet),
          fedByPii: fedByPii(dataSet),
          ...(dataSet.deprecation === undefined ? {} : { deprecation: dataSet.deprecation }),
        }))
        .sort(
          (a, b) =>
            roles.indexOf(a.role) - roles.indexOf(b.role) || compare(dataSetLabel(a), dataSetLabel(b)),
        );
      return {
        namespace: pkg.namespace,
        name: pkg.name,
        kind: pkg.kind,
        version: pkg.version,
        labels: { ...pkg.labels },
        handlesPii: dataSets.some((dataSet) => dataSet.piiFields.length > 0 || dataSet.fedByPii),
        cells: [...cellsOf(inputs.placements.packages, packageKeyOf(pkg))].sort(compare),
        dataSets,
        ...(pkg.deprecation === undefined ? {} : { deprecation: pkg.deprecation }),
      };
    })
    .filter((pkg) => pkg.dataSets.length > 0);
  const packageMatches = (pkg: (typeof packages)[number]): boolean =>
    (filter.namespace === undefined || pkg.namespace === filter.namespace) &&
    (filter.cell === undefined || pkg.cells.includes(filter.cell)) &&
    (filter.pii === undefined || pkg.handlesPii === filter.pii) &&
    (filter.classification === undefined ||
      pkg.dataSets.some((dataSet) => (dataSet.classification ?? 'unclassified') === filter.classification));

  const shownByKey = new Map(packages.map((pkg) => [packageKeyOf(pkg), pkg]));

  // PII flows and violations are about PII only: `pii=false` asks for what does not handle it.
  const aboutPii = filter.pii !== false;
  const flows = aboutPii
    ? analysis.flows.filter((flow) => dataSetMatches(flow.from) || dataSetMatches(flow.to))
    : [];
  const violations = aboutPii
    ? analysis.violations.filter((violation) => dataSetMatches(violation.dataset))
    : [];

  const deprecations = [
    ...inputs.dataSets
      .filter((dataSet) => dataSet.deprecation !== undefined && dataSet.deprecation.package === undefined)
      .filter(
        (dataSet) =>
          dataSetMatches(dataSet) &&
          (filter.pii === undefined || analysis.reached.has(dataSetKeyOf(dataSet)) === filter.pii),
      )
      .map((dataSet) => deprecationEntry('dataset', dataSet, dataSet.deprecation, dataSet.consumers, now)),
    ...inputs.packages
      .filter((pkg) => pkg.deprecation !== undefined)
      .filter((pkg) => {
        const entry = shownByKey.get(packageKeyOf(pkg));
        return entry === undefined
          ? filter.pii !== true &&
              filter.classification === undefined &&
              (filter.namespace === undefined || pkg.namespace === filter.namespace) &&
              (filter.cell === undefined ||
                cellsOf(inputs.placements.packages, packageKeyOf(pkg)).has(filter.cell))
          : packageMatches(entry);
      })
      .map((pkg) =>
        deprecationEntry('package', pkg, pkg.deprecation, consumersOfPackage(pkg, inputs.dataSets), now),
      ),
  ].sort((a, b) => compare(a.subject, b.subject) || compare(dataSetLabel(a), dataSetLabel(b)));

  const shown = packages.filter(packageMatches).sort((a, b) => compare(dataSetLabel(a), dataSetLabel(b)));
  return {
    generatedAt: now.toISOString(),
    filter: {
      ...(filter.pii === undefined ? {} : { pii: filter.pii }),
      ...(filter.namespace === undefined ? {} : { namespace: filter.namespace }),
      ...(filter.classification === undefined ? {} : { classification: filter.classification }),
      ...(filter.cell === undefined ? {} : { cell: filter.cell }),
    },
    summary: {
      packages: shown.length,
      piiDataSets: aboutPii
        ? [...analysis.sources].filter((source) => {
            const dataSet = analysis.dataSets.get(source);
            return dataSet !== undefined && dataSetMatches(dataSet);
          }).length
        : 0,
      flows: flows.length,
      violations: violations.length,
      deprecations: deprecations.length,
    },
    packages: shown,
    flows: [...flows],
    violations: [...violations],
    deprecations,
    lineage: { complete: inputs.lineageRead.complete, nodesRead: inputs.lineageRead.nodesRead },
  };

  function deprecationEntry(
    subject: 'dataset' | 'package',
    of: DataSetKey,
    deprecation: Deprecation | undefined,
    consumers: readonly PackageRef[],
    at: Date,
  ): GovernanceReport['deprecations'][number] {
    if (deprecation === undefined) throw new Error('only deprecated subjects have an entry');
    return {
      subject,
      namespace: of.namespace,
      name: of.name,
      reason: deprecation.reason,
      sunset: deprecation.sunset,
      deprecatedAt: deprecation.deprecatedAt,
      deprecatedBy: deprecation.deprecatedBy,
      sunsetPassed: sunsetPassed(deprecation.sunset, at),
      consumers: uniqueRefs(consumers),
    };
  }
}

/** The packages reading what a package declares or writes (who a package's deprecation affects). */
export function consumersOfPackage(
  pkg: { readonly namespace: string; readonly name: string },
  dataSets: readonly CatalogDataSet[],
): PackageRef[] {
  const same = (ref: PackageRef | undefined) =>
    ref !== undefined && ref.namespace === pkg.namespace && ref.name === pkg.name;
  return uniqueRefs(
    dataSets
      .filter((dataSet) => same(dataSet.declaredBy) || dataSet.producers.some(same))
      .flatMap((dataSet) => dataSet.consumers.filter((consumer) => !same(consumer))),
  );
}

function uniqueRefs(refs: readonly PackageRef[]): PackageRef[] {
  const unique = new Map(refs.map((ref) => [packageKeyOf(ref), ref]));
  return [...unique.values()]
    .map((ref) => ({ namespace: ref.namespace, name: ref.name, version: ref.version }))
    .sort((a, b) => compare(dataSetLabel(a), dataSetLabel(b)));
}
