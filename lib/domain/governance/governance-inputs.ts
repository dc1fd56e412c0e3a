import * as z from 'zod';
import type { DataSetDetail } from '../../contracts/api/datasets.js';
import type { Deployment } from '../../contracts/api/deployments.js';
import { dataKitIdentityOf } from '../../contracts/events/lineage.js';
import type { DeploymentRepository } from '../../ports/deployment-store.js';
import type { NodeAdjacency } from '../../ports/lineage-graph.js';
import type { LineageGraphSession } from '../../ports/lineage-store.js';
import type { DataSetCatalog, PackageReader } from '../../ports/package-repository.js';
import {
  type DatasetFieldNodeId,
  type DatasetNodeId,
  datasetFieldNodeId,
  datasetNodeId,
  type JobNodeId,
  type NodeId,
} from '../lineage/node-id.js';
import {
  type LineageBinding,
  type LineageView,
  projectLineage,
  unreadDownstream,
} from './lineage-projection.js';
import {
  analysePii,
  type CatalogDataSet,
  type CatalogPackage,
  type ColumnEdge,
  type DataSetEdge,
  type DataSetKey,
  dataSetKeyOf,
} from './pii-flow.js';
import { type PromotionCandidate, withCandidate } from './pii-gate.js';
import { packageKeyOf, type ReportInputs } from './report.js';

/** Lineage nodes one report reads at most (100 BatchGets); past it the report says its lineage is incomplete. */
export const defaultMaxLineageNodes = 10_000;

export interface GovernanceInputDependencies {
  readonly packages: Pick<PackageReader, 'dataSetCatalog'>;
  readonly deployments: Pick<DeploymentRepository, 'listDeploymentsOfEnvironment'>;
  /** The environments whose deployments place DataSets in cells and name their OpenLineage datasets. */
  readonly environments: readonly string[];
  /** A fresh walk of the OpenLineage graph. */
  readonly lineageGraph: () => LineageGraphSession;
  readonly maxLineageNodes?: number;
}

/** A dataset's OpenLineage name. */
interface OpenLineageName {
  readonly namespace: string;
  readonly name: string;
}

const symlinksSchema = z.object({
  identifiers: z.array(z.looseObject({ namespace: z.string(), name: z.string() })),
});

/**
 * Gathers what the PII analysis and the report read, with Queries and BatchGets only: the registry's
 * catalog (every declaration and edge, one paginated Query, and the heads in BatchGets), the deployments of
 * every environment (one paginated Query each), and the OpenLineage graph downstream of the DataSets PII
 * reaches — read level by level (one BatchGet per level), at most `maxLineageNodes` nodes.
 */
export function makeGovernanceInputs(deps: GovernanceInputDependencies) {
  const maxNodes = deps.maxLineageNodes ?? defaultMaxLineageNodes;

  async function deploymentsOf(): Promise<Deployment[]> {
    const all: Deployment[] = [];
    for (const env of deps.environments) {
      let cursor: string | undefined;
      do {
        const page = await deps.deployments.listDeploymentsOfEnvironment(env, { limit: 100, cursor });
        all.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor !== undefined);
    }
    return all;
  }

  /**
   * `lineage: false` skips the lineage walk. With a `candidate` (the PII gate of a promotion), the walk
   * follows what PII reaches with that version in place: a version that starts writing PII into a DataSet
   * reaches lineage downstream of it that the registry's current graph never led to.
   */
  return async function governanceInputs(
    options: { readonly lineage?: boolean; readonly candidate?: PromotionCandidate } = {},
  ): Promise<ReportInputs> {
    const [catalog, deployments] = await Promise.all([deps.packages.dataSetCatalog(), deploymentsOf()]);
    const dataSets = catalog.dataSets.map(catalogDataSet);
    const packages = catalog.packages.map(
      (pkg): CatalogPackage => ({
        namespace: pkg.namespace,
        name: pkg.name,
        version: pkg.latestVersion,
        kind: pkg.kind,
        labels: pkg.labels,
        ...(pkg.deprecation === undefined ? {} : { deprecation: pkg.deprecation }),
      }),
    );
    const placements = placementsOf(deployments, catalog);
    const bindings = new Map<DatasetNodeId, LineageBinding[]>();
    const names = new Map<DatasetNodeId, OpenLineageName>();
    const bind = (id: DatasetNodeId, binding: LineageBinding) => {
      const known = bindings.get(id) ?? [];
      if (
        !known.some(
          (b) => dataSetKeyOf(b.dataSet) === dataSetKeyOf(binding.dataSet) && b.cell === binding.cell,
        )
      )
        bindings.set(id, [...known, binding]);
    };
    for (const deployment of deployments) {
      for (const io of [...(deployment.inputs ?? []), ...(deployment.outputs ?? [])]) {
        if (io.lineage === undefined) continue;
        const id = datasetNodeId(io.lineage.namespace, io.lineage.name);
        names.set(id, io.lineage);
        bind(id, {
          dataSet: { namespace: io.namespace, name: io.name },
          cell: io.cell,
        });
      }
    }
    const base = { dataSets, packages, placements };
    if (options.lineage === false) {
      return {
        ...base,
        lineage: { dataSetEdges: [], columnEdges: [] },
        lineageRead: { complete: true, nodesRead: 0 },
      };
    }
    const { candidate } = options;
    const walked = await walkLineage(deps.lineageGraph(), maxNodes, { bindings, names }, (lineage) =>
      analysePii(
        candidate === undefined
          ? { dataSets, packages, lineage }
          : withCandidate(candidate, { dataSets, packages, lineage }),
      ),
    );
    return { ...base, lineage: walked.lineage, lineageRead: walked.read };
  };
}

export type GovernanceInputSource = ReturnType<typeof makeGovernanceInputs>;

/** A registry DataSet as the analysis reads it. */
function catalogDataSet(detail: DataSetDetail): CatalogDataSet {
  return {
    namespace: detail.namespace,
    name: detail.name,
    ...(detail.classification === undefined ? {} : { classification: detail.classification }),
    ...(detail.schema === undefined ? {} : { schema: detail.schema }),
    ...(detail.declaredBy === undefined ? {} : { declaredBy: detail.declaredBy }),
    producers: detail.producers,
    consumers: detail.consumers,
    ...(detail.deprecation === undefined ? {} : { deprecation: detail.deprecation }),
  };
}

/** The cells each DataSet and package is deployed in: a Transform's bound inputs and outputs, a DataSet package's DataSets. */
function placementsOf(
  deployments: readonly Deployment[],
  catalog: DataSetCatalog,
): ReportInputs['placements'] {
  const dataSets = new Map<string, Set<string>>();
  const packages = new Map<string, Set<string>>();
  const add = (map: Map<string, Set<string>>, key: string, cell: string) => {
    const cells = map.get(key) ?? new Set<string>();
    cells.add(cell);
    map.set(key, cells);
  };
  const declaredBy = new Map<string, DataSetKey[]>();
  for (const dataSet of catalog.dataSets) {
    if (dataSet.declaredBy === undefined) continue;
    const key = packageKeyOf(dataSet.declaredBy);
    declaredBy.set(key, [...(declaredBy.get(key) ?? []), dataSet]);
  }
  for (const deployment of deployments) {
    add(packages, packageKeyOf(deployment), deployment.cell);
    for (const io of [...(deployment.inputs ?? []), ...(deployment.outputs ?? [])])
      add(dataSets, dataSetKeyOf(io), io.cell);
    for (const dataSet of declaredBy.get(packageKeyOf(deployment)) ?? [])
      add(dataSets, dataSetKeyOf(dataSet), deployment.cell);
  }
  return { dataSets, packages };
}

/**
 * Reads the OpenLineage graph downstream of everything PII reaches, level by level: after each level the
 * analysis runs again on what was read, and its DataSets and columns (in their OpenLineage names) are the
 * roots of the next level, until nothing downstream is unread or the node budget is spent.
 */
async function walkLineage(
  session: LineageGraphSession,
  maxNodes: number,
  {
    bindings,
    names,
  }: { bindings: Map<DatasetNodeId, LineageBinding[]>; names: Map<DatasetNodeId, OpenLineageName> },
  analyse: (lineage: {
    dataSetEdges: DataSetEdge[];
    columnEdges: ColumnEdge[];
  }) => ReturnType<typeof analysePii>,
): Promise<{
  lineage: { dataSetEdges: DataSetEdge[]; columnEdges: ColumnEdge[] };
  read: { complete: boolean; nodesRead: number };
}> {
  const adjacency = new Map<NodeId, NodeAdjacency>();
  const read = new Set<NodeId>();
  const jobs = new Map<JobNodeId, { namespace: string; name: string }>();
  const fields = new Map<DatasetFieldNodeId, { dataset: DatasetNodeId; field: string }>();
  const view: LineageView = { adjacency, jobs, fields, bindings };
  let complete = true;
  for (;;) {
    const lineage = projectLineage(view);
    const analysis = analyse(lineage);
    const namesOf = new Map<string, DatasetNodeId[]>();
    for (const [id, bound] of bindings) {
      for (const binding of bound)
        namesOf.set(dataSetKeyOf(binding.dataSet), [
          ...(namesOf.get(dataSetKeyOf(binding.dataSet)) ?? []),
          id,
        ]);
    }
    const roots: NodeId[] = [];
    for (const reached of analysis.reached.keys()) roots.push(...(namesOf.get(reached) ?? []));
    for (const { column } of analysis.reachedColumns.values()) {
      for (const id of namesOf.get(dataSetKeyOf(column.dataset)) ?? []) {
        const name = names.get(id);
        if (name === undefined) continue;
        const field = datasetFieldNodeId(name.namespace, name.name, column.column);
        fields.set(field, { dataset: id, field: column.column });
        roots.push(field);
      }
    }
    const unread = unreadDownstream(view, read, roots);
    const room = maxNodes - read.size;
    if (unread.length === 0 || room <= 0) {
      complete = unread.length === 0;
      return { lineage, read: { complete, nodesRead: read.size } };
    }
    const batch = unread.slice(0, room);
    const answer = await session.neighbours(batch);
    for (const id of batch) {
      read.add(id);
      const edges = answer.get(id);
      if (edges !== undefined) adjacency.set(id, edges);
    }
    const records = await session.records([]);
    for (const [id, stored] of records.jobs)
      jobs.set(id, { namespace: stored.job.namespace, name: stored.job.name });
    for (const [id, stored] of records.fields) {
      if (stored.record !== undefined)
        fields.set(id, {
          dataset: datasetNodeId(stored.record.namespace, stored.record.dataset),
          field: stored.record.field,
        });
    }
    for (const [id, stored] of records.datasets) {
      const symlinks = symlinksSchema.safeParse(stored.dataset.facets.symlinks);
      const identity = symlinks.success ? dataKitIdentityOf(symlinks.data.identifiers) : undefined;
      if (identity === undefined) continue;
      names.set(id, { namespace: stored.dataset.namespace, name: stored.dataset.name });
      const bound = bindings.get(id) ?? [];
      const dataSet: DataSetKey = { namespace: identity.namespace, name: identity.name };
      if (!bound.some((b) => dataSetKeyOf(b.dataSet) === dataSetKeyOf(dataSet) && b.cell === identity.cell))
        bindings.set(id, [...bound, { dataSet, cell: identity.cell }]);
    }
  }
}
