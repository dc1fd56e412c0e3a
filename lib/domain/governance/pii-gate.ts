import type { PiiFlow, Violation } from '../../contracts/api/governance.js';
import type { PackageVersion } from '../../contracts/api/packages.js';
import { dataSetManifestSchema } from '../../contracts/manifests/dataset.js';
import type { PackageReader } from '../../ports/package-repository.js';
import { NotFoundError } from '../errors.js';
import type { GovernanceInputSource } from './governance-inputs.js';
import {
  analysePii,
  type CatalogDataSet,
  type DataSetKey,
  dataSetKeyOf,
  dataSetLabel,
  type GovernanceInputs,
  isBelowPiiClassification,
  type PackageRef,
} from './pii-flow.js';

/**
 * The PII gate of a promotion (ADR "PII gate at promotion"): the report's graph with the version about to
 * be deployed in place of its package's latest one, and the DataSets PII reaches *through* that version —
 * along a path that passes one of its own edges (its Transform's inputs → outputs, a `from` column of a
 * contract it carries) or starts at a PII DataSet it writes. Those classified below confidential are what a
 * governed environment refuses.
 */

/** A package version about to be deployed: what it reads and writes, and the DataSet contracts it carries. */
export interface PromotionCandidate {
  readonly namespace: string;
  readonly name: string;
  readonly version: string;
  readonly inputs: readonly DataSetKey[];
  readonly outputs: readonly DataSetKey[];
  /** Contracts the version declares itself; they replace the registry's while the version is checked. */
  readonly dataSets?: readonly Pick<CatalogDataSet, 'namespace' | 'name' | 'classification' | 'schema'>[];
}

/** A registered version as a promotion candidate: its named inputs and outputs, and the contracts it carries. */
export function promotionCandidateOf(version: PackageVersion): PromotionCandidate {
  const manifests = version.kind === 'DataSet' ? [...version.datasets, version.manifest] : version.datasets;
  const dataSets = new Map<string, NonNullable<PromotionCandidate['dataSets']>[number]>();
  for (const manifest of manifests) {
    const parsed = dataSetManifestSchema.safeParse(manifest);
    if (!parsed.success) continue;
    const contract = {
      namespace: parsed.data.metadata.namespace ?? version.namespace,
      name: parsed.data.metadata.name,
      ...(parsed.data.spec.classification === undefined
        ? {}
        : { classification: parsed.data.spec.classification }),
      ...(parsed.data.spec.schema === undefined ? {} : { schema: parsed.data.spec.schema }),
    };
    dataSets.set(dataSetKeyOf(contract), contract);
  }
  return {
    namespace: version.namespace,
    name: version.name,
    version: version.version,
    inputs: version.inputs,
    outputs: version.outputs,
    dataSets: [...dataSets.values()],
  };
}

const key = (dataSet: DataSetKey): DataSetKey => ({ namespace: dataSet.namespace, name: dataSet.name });

/**
 * The graph with `candidate` in place of its package's latest version: it reads and writes what the
 * candidate does, the contracts it carries replace the registry's, and DataSets only it names are added.
 */
export function withCandidate<Inputs extends GovernanceInputs>(
  candidate: PromotionCandidate,
  inputs: Inputs,
): Inputs {
  const self = (ref: PackageRef) => ref.namespace === candidate.namespace && ref.name === candidate.name;
  const ref: PackageRef = {
    namespace: candidate.namespace,
    name: candidate.name,
    version: candidate.version,
  };
  const reads = new Set(candidate.inputs.map(dataSetKeyOf));
  const writes = new Set(candidate.outputs.map(dataSetKeyOf));
  const own = new Map((candidate.dataSets ?? []).map((dataSet) => [dataSetKeyOf(dataSet), dataSet]));
  const replaced = (dataSet: CatalogDataSet): CatalogDataSet => {
    const id = dataSetKeyOf(dataSet);
    const contract = own.get(id);
    return {
      ...dataSet,
      ...(contract === undefined ? {} : { classification: contract.classification, schema: contract.schema }),
      producers: [...dataSet.producers.filter((p) => !self(p)), ...(writes.has(id) ? [ref] : [])],
      consumers: [...dataSet.consumers.filter((c) => !self(c)), ...(reads.has(id) ? [ref] : [])],
    };
  };
  const present = new Set(inputs.dataSets.map(dataSetKeyOf));
  const added = [...candidate.inputs, ...candidate.outputs, ...(candidate.dataSets ?? [])]
    .filter((dataSet) => !present.has(dataSetKeyOf(dataSet)))
    .map((dataSet): CatalogDataSet => ({ ...key(dataSet), producers: [], consumers: [] }));
  const unique = new Map([...inputs.dataSets, ...added].map((dataSet) => [dataSetKeyOf(dataSet), dataSet]));
  return { ...inputs, dataSets: [...unique.values()].map(replaced) };
}

/** What deploying a candidate would mean for PII. */
export interface PiiGateCheck {
  /**
   * `PII_UNDERCLASSIFIED`: every DataSet PII reaches through the candidate that is classified below
   * confidential, with the shortest such path (source first, through the candidate). The gate refuses these.
   */
  readonly violations: readonly Violation[];
  /** `PII_COLUMN_UNMARKED` on DataSets PII reaches through the candidate: shown, not refused. */
  readonly columnViolations: readonly Violation[];
  /** PII flowing into the candidate's outputs. */
  readonly flows: readonly PiiFlow[];
  /** False when the lineage walk stopped at its node budget: flows beyond it were not seen. */
  readonly lineageComplete: boolean;
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The gate's check of a candidate against the graph (`inputs`, as `makeGovernanceInputs` gathers them for
 * this candidate). A breadth-first walk over (DataSet, through the candidate yet?) from every PII source
 * finds, for each DataSet, the shortest path from PII to it that uses the candidate — a violation already
 * there without the candidate (PII reaching it another way) is not the candidate's and does not block it.
 */
export function piiGate(
  candidate: PromotionCandidate,
  inputs: GovernanceInputs & { readonly lineageRead?: { readonly complete: boolean } },
): PiiGateCheck {
  const analysis = analysePii(withCandidate(candidate, inputs));
  const own = new Set((candidate.dataSets ?? []).map(dataSetKeyOf));
  const writes = new Set(candidate.outputs.map(dataSetKeyOf));
  const mine = (via: (typeof analysis.edges)[number]['via'], to: string): boolean =>
    (via.type === 'transform' && via.namespace === candidate.namespace && via.name === candidate.name) ||
    (via.type === 'contract' && own.has(to));

  // from → to → whether one of the edges between them is the candidate's.
  const out = new Map<string, Map<string, boolean>>();
  for (const edge of analysis.edges) {
    const from = dataSetKeyOf(edge.from);
    const to = dataSetKeyOf(edge.to);
    const targets = out.get(from) ?? new Map<string, boolean>();
    targets.set(to, (targets.get(to) ?? false) || mine(edge.via, to));
    out.set(from, targets);
  }
  const sorted = new Map(
    [...out].map(([from, targets]) => [from, [...targets].sort(([a], [b]) => compare(a, b))]),
  );

  // States are `0<node>` (PII got here without the candidate) and `1<node>` (through it).
  const state = (node: string, through: boolean) => `${through ? 1 : 0}${node}`;
  const parent = new Map<string, string | undefined>();
  const queue: { node: string; through: boolean }[] = [];
  for (const source of [...analysis.sources].sort(compare)) {
    // A PII DataSet the candidate writes: its PII comes from the candidate as far as the graph knows.
    const through = writes.has(source);
    parent.set(state(source, through), undefined);
    queue.push({ node: source, through });
  }
  // The iterator sees what is pushed while it runs: a queue.
  for (const { node, through } of queue) {
    for (const [to, candidateEdge] of sorted.get(node) ?? []) {
      const next = { node: to, through: through || candidateEdge };
      const id = state(next.node, next.through);
      if (parent.has(id)) continue;
      parent.set(id, state(node, through));
      queue.push(next);
    }
  }
  const labelOf = (stateId: string): string => {
    const dataSet = analysis.dataSets.get(stateId.slice(1));
    return dataSet === undefined ? stateId.slice(1) : dataSetLabel(dataSet);
  };
  const pathTo = (stateId: string): string[] => {
    const path: string[] = [];
    for (let at: string | undefined = stateId; at !== undefined; at = parent.get(at))
      path.unshift(labelOf(at));
    return path;
  };

  const through = new Set<string>();
  const violations: Violation[] = [];
  const by = `${candidate.namespace}/${candidate.name} ${candidate.version}`;
  for (const [node, dataSet] of analysis.dataSets) {
    const reached = state(node, true);
    if (!parent.has(reached)) continue;
    through.add(node);
    if (!isBelowPiiClassification(dataSet.classification)) continue;
    const path = pathTo(reached);
    const current =
      dataSet.classification === undefined
        ? 'has no classification'
        : `is classified ${dataSet.classification}`;
    const origin =
      path.length === 1
        ? `would hold PII written by ${by}`
        : `would receive PII from ${path[0]} through ${by} (${path.join(' → ')})`;
    violations.push({
      code: 'PII_UNDERCLASSIFIED',
      dataset: key(dataSet),
      ...(dataSet.classification === undefined ? {} : { classification: dataSet.classification }),
      path,
      message: `DataSet ${dataSetLabel(dataSet)} ${current} but ${origin}; classify it confidential or restricted`,
    });
  }
  violations.sort((a, b) => compare(dataSetLabel(a.dataset), dataSetLabel(b.dataset)));
  return {
    violations,
    columnViolations: analysis.violations.filter(
      (violation) => violation.code === 'PII_COLUMN_UNMARKED' && through.has(dataSetKeyOf(violation.dataset)),
    ),
    flows: analysis.flows.filter((flow) => writes.has(dataSetKeyOf(flow.to))),
    lineageComplete: inputs.lineageRead?.complete ?? true,
  };
}

/** The gate's check of a registered version, from the registry and lineage as they are now. */
export type PiiCheck = (target: PackageRef) => Promise<PiiGateCheck>;

/**
 * Reads the version and the graph around it (the whole registry, and the lineage downstream of what PII
 * reaches with the version in place) and checks it. Every failure to read is thrown, never a pass.
 */
export function makePiiCheck(deps: {
  readonly packages: Pick<PackageReader, 'getVersion'>;
  readonly inputs: GovernanceInputSource;
}): PiiCheck {
  return async function piiCheck(target: PackageRef): Promise<PiiGateCheck> {
    const version = await deps.packages.getVersion(target.namespace, target.name, target.version);
    if (version === undefined) {
      throw new NotFoundError(
        'VERSION_NOT_FOUND',
        `${target.namespace}/${target.name} ${target.version} is not registered.`,
      );
    }
    const candidate = promotionCandidateOf(version);
    return piiGate(candidate, await deps.inputs({ candidate }));
  };
}
