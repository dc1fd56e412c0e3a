/**
 * The table's key layout, owned by this module alone (docs/data-model.md lists every access pattern).
 * Entity partitions are `<TYPE>#<id parts>`; singleton items inside a partition start with `#` so they
 * sort before the collections that share the partition.
 */
import { createHash } from 'node:crypto';
import { auditPartitionPrefix } from '../../contracts/table.js';
import { sortableVersion } from '../../domain/registry/version-order.js';

export interface ItemKey {
  readonly PK: string;
  readonly SK: string;
}

const sep = '#';
const join = (...parts: readonly string[]): string => parts.join(sep);

/** Longest escaped key part kept readable; longer parts are hashed so keys stay far below 1 KB. */
const maxReadablePartBytes = 400;

/**
 * A free-form key part (OpenLineage namespaces and names may hold `#` and be of any length): `%`, `#`
 * and `~` are percent-escaped, and a part whose escaped form is over 400 bytes becomes `~` + its
 * SHA-256, which no escaped part can start with. Injective, so distinct parts never share a key.
 */
export function keyPart(value: string): string {
  const escaped = value.replace(/[%#~]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
  if (Buffer.byteLength(escaped, 'utf8') <= maxReadablePartBytes) return escaped;
  return `~${createHash('sha256').update(value, 'utf8').digest('hex')}`;
}

export const keys = {
  // Registry
  package: (namespace: string, name: string): ItemKey => ({
    PK: join('PKG', namespace, name),
    SK: '#PACKAGE',
  }),
  packagePartition: (namespace: string, name: string): string => join('PKG', namespace, name),
  packageVersion: (namespace: string, name: string, version: string): ItemKey => ({
    PK: join('PKG', namespace, name),
    SK: join('VER', sortableVersion(version)),
  }),
  packageVersionPrefix: 'VER#',
  packagesIndex: { pk: 'PACKAGES', sk: (namespace: string, name: string) => join(namespace, name) },
  packagesByKindIndex: { pk: (kind: string) => join('PACKAGES', 'KIND', kind) },
  registration: (id: string): ItemKey => ({ PK: join('REG', id), SK: '#REG' }),
  registrationsIndex: {
    pk: 'REGS',
    byStatus: (status: string) => join('REGS', status),
    sk: (createdAt: string, id: string) => join(createdAt, id),
    /** Registrations of one package (GSI3), by version: `{version}#{createdAt}#{id}`. */
    ofPackage: (namespace: string, name: string) => join('REGS', 'PKG', namespace, name),
    ofVersionSk: (version: string, sk: string) => join(version, sk),
  },
  datasetPartition: (namespace: string, name: string): string => join('DS', namespace, name),
  /** A DataSet contract as one package version declares it (staged with the version). */
  datasetDeclaration: (
    dataset: { readonly namespace: string; readonly name: string },
    pkg: { readonly namespace: string; readonly name: string; readonly version: string },
  ): ItemKey => ({
    PK: join('DS', dataset.namespace, dataset.name),
    SK: join('DECL', pkg.namespace, pkg.name, sortableVersion(pkg.version)),
  }),
  /** A Transform version's input (`consumer`) or output (`producer`) (staged with the version). */
  pipelineEdge: (
    dataset: { readonly namespace: string; readonly name: string },
    role: 'producer' | 'consumer',
    pkg: { readonly namespace: string; readonly name: string; readonly version: string },
  ): ItemKey => ({
    PK: join('DS', dataset.namespace, dataset.name),
    SK: join('EDGE', role, pkg.namespace, pkg.name, sortableVersion(pkg.version)),
  }),
  /** Declarations and edges of every DataSet, grouped by DataSet: `{ns}#{name}#<SK>`. */
  datasetsIndex: {
    pk: 'DATASETS',
    sk: (namespace: string, name: string, sk: string) => join(namespace, name, sk),
    prefix: (namespace: string) => join(namespace, ''),
  },
  pipelineEdgesIndex: {
    pk: 'EDGES',
    sk: (namespace: string, name: string, sk: string) => join(namespace, name, sk),
  },

  // Lineage (docs/data-model.md, Lineage): graph nodes are keyed by their Marquez node id, so a
  // BFS level of the lineage graph is one BatchGet whatever the id's namespace holds.
  lineageNode: (nodeId: string): ItemKey => ({ PK: join('LNODE', keyPart(nodeId)), SK: '#NODE' }),
  lineageRun: (runId: string): ItemKey => ({ PK: join('LRUN', keyPart(runId)), SK: '#RUN' }),
  lineageRunsOfJobIndex: {
    pk: (jobNodeId: string): string => join('LJOBRUNS', keyPart(jobNodeId)),
    sk: (createdAt: string, runId: string): string => join(createdAt, keyPart(runId)),
  },
  lineageChildRunsIndex: { pk: (parentRunId: string): string => join('LCHILDRUNS', keyPart(parentRunId)) },
  lineageRawEvent: (eventId: string): ItemKey => ({ PK: join('LEVENT', eventId), SK: '#EVENT' }),
  /** RunEvents by eventTime (what Marquez lists); DatasetEvents and JobEvents under `otherPk`. */
  lineageRawEventsIndex: {
    pk: 'LEVENTS',
    otherPk: 'LEVENTS#OTHER',
    sk: (eventTime: string, eventId: string): string => join(eventTime, eventId),
  },
  /** Every job of every namespace, by namespace and name. */
  lineageAllJobs: (namespace: string, name: string): ItemKey => ({
    PK: 'LJOBS',
    SK: join(keyPart(namespace), keyPart(name)),
  }),
  lineageAllJobsPartition: 'LJOBS',
  /** A dataset's versions by creation (GSI1 of the version items). */
  lineageDatasetVersionsIndex: {
    pk: (datasetNodeId: string): string => join('LDSVERS', keyPart(datasetNodeId)),
    sk: (createdAt: string, version: string): string => join(createdAt, keyPart(version)),
  },
  /** Tags, by name. */
  lineageTag: (name: string): ItemKey => ({ PK: 'LTAGS', SK: keyPart(name) }),
  lineageTagsPartition: 'LTAGS',
  /** Data sources (a dataset's source name), by name. */
  lineageSource: (name: string): ItemKey => ({ PK: 'LSOURCES', SK: keyPart(name) }),
  /** Counters of a statistics series (`EVENTS`, `JOBS`, `DATASETS`, `SOURCES`) by 15-minute bucket. */
  lineageStats: (series: string, bucket: string): ItemKey => ({ PK: join('LSTATS', series), SK: bucket }),
  lineageStatsPartition: (series: string): string => join('LSTATS', series),
  /** How many jobs, datasets and sources there are. */
  lineageTotals: (): ItemKey => ({ PK: 'LSTATS', SK: '#TOTALS' }),
  lineageNamespace: (namespace: string): ItemKey => ({ PK: 'LNAMESPACES', SK: keyPart(namespace) }),
  lineageNamespacesPartition: 'LNAMESPACES',
  lineageNamespaceMember: (kind: 'job' | 'dataset', namespace: string, name: string): ItemKey => ({
    PK: join(kind === 'job' ? 'LNSJOBS' : 'LNSDATASETS', keyPart(namespace)),
    SK: keyPart(name),
  }),
  lineageNamespaceMembersPartition: (kind: 'job' | 'dataset', namespace: string): string =>
    join(kind === 'job' ? 'LNSJOBS' : 'LNSDATASETS', keyPart(namespace)),
  lineageDatasetVersion: (datasetNodeId: string, version: string): ItemKey => ({
    PK: join('LDSVER', keyPart(datasetNodeId)),
    SK: keyPart(version),
  }),
  /** Search terms are partitioned by their first character; the sort key starts with the term. */
  lineageSearchTerm: (term: string, nodeId: string): ItemKey => ({
    PK: join('LSEARCH', keyPart(term.slice(0, 1))),
    SK: join(keyPart(term), keyPart(nodeId)),
  }),
  lineageSearchPartition: (term: string): string => join('LSEARCH', keyPart(term.slice(0, 1))),
  lineageSearchPrefix: (term: string): string => keyPart(term),

  // Governance
  /** A DataSet's deprecation, in the DataSet's partition (read with its declarations and edges). */
  dataSetDeprecation: (namespace: string, name: string): ItemKey => ({
    PK: join('DS', namespace, name),
    SK: '#DEPRECATION',
  }),
  /** A package's deprecation, beside its head (`#DEPRECATION` sorts before `#PACKAGE`). */
  packageDeprecation: (namespace: string, name: string): ItemKey => ({
    PK: join('PKG', namespace, name),
    SK: '#DEPRECATION',
  }),
  /** The items of a package partition that are not versions, deployments or runs: head and deprecation. */
  packageSingletonsPrefix: '#',

  // Access control and the audit trail (ADR 0018)
  /**
   * An audit record: one partition per month (`AUDIT#{yyyy-mm}`), so the newest-first listing of the whole
   * trail reads at most one Query per month of retention. Every table key of the trail starts with
   * `AUDIT#` (`auditPartitionPrefix`): the functions' IAM policies deny UpdateItem, DeleteItem and
   * BatchWriteItem on those leading keys.
   */
  auditRecord: (at: string, id: string): ItemKey => ({
    PK: `${auditPartitionPrefix}${at.slice(0, 7)}`,
    SK: join(at, id),
  }),
  auditMonth: (month: string): string => `${auditPartitionPrefix}${month}`,
  /** The trail of a namespace (GSI1), of a person (GSI2) and of a target (GSI3), newest first by `{at}#{id}`. */
  auditIndex: {
    ofNamespace: (namespace: string): string => join('AUDIT', 'NS', namespace),
    ofActor: (person: string): string => join('AUDIT', 'ACTOR', keyPart(person)),
    ofTarget: (target: string): string => join('AUDIT', 'TARGET', keyPart(target)),
    sk: (at: string, id: string): string => join(at, id),
  },
  /** The role bindings of a namespace; listed under GSI1 `NSBINDINGS` (does any namespace have some?). */
  namespaceBindings: (namespace: string): ItemKey => ({ PK: join('NSBIND', namespace), SK: '#BINDINGS' }),
  bindingsIndex: { pk: 'NSBINDINGS', sk: (namespace: string): string => namespace },

  // Deployments, promotions, cells, runs (docs/data-model.md, ADR 0006)
  deployment: (namespace: string, name: string, environment: string, cell: string): ItemKey => ({
    PK: join('PKG', namespace, name),
    SK: join('DEPLOY', environment, cell),
  }),
  deploymentPrefix: 'DEPLOY#',
  /** Deployments of an environment, by cell then package: GSI3. */
  deploymentsIndex: {
    pk: (environment: string): string => join('DEPLOYS', environment),
    sk: (cell: string, namespace: string, name: string): string => join(cell, namespace, name),
    cellPrefix: (cell: string): string => join(cell, ''),
  },
  /** The last run of a package in one environment × cell (a projection of the run records). */
  lastRun: (namespace: string, name: string, environment: string, cell: string): ItemKey => ({
    PK: join('PKG', namespace, name),
    SK: join('LASTRUN', environment, cell),
  }),
  lastRunPrefix: 'LASTRUN#',
  promotion: (id: string): ItemKey => ({ PK: join('PROMO', id), SK: '#PROMO' }),
  /** Promotions of a package (GSI1) and of every package (GSI2), newest first by `{createdAt}#{id}`. */
  promotionsIndex: {
    ofPackage: (namespace: string, name: string): string => join('PROMOS', namespace, name),
    all: 'PROMOS',
    sk: (createdAt: string, id: string): string => join(createdAt, id),
  },
  /** The open-promotion lock of a package × environment × cell: who holds it (never deleted, taken over). */
  promotionLock: (namespace: string, name: string, environment: string, cell: string): ItemKey => ({
    PK: join('PKG', namespace, name),
    SK: join('PROMOLOCK', environment, cell),
  }),
  /** Which promotion a pipeline execution runs (CodePipeline's events name only the execution). */
  pipelineExecution: (executionId: string): ItemKey => ({
    PK: join('PIPEEXEC', keyPart(executionId)),
    SK: '#PIPEEXEC',
  }),
  cell: (cell: string): ItemKey => ({ PK: join('CELL', cell), SK: '#CELL' }),
  cellsIndex: { pk: 'CELLS', sk: (cell: string): string => cell },
  cellStore: (cell: string, store: string): ItemKey => ({ PK: join('CELL', cell), SK: join('STORE', store) }),
  cellPartition: (cell: string): string => join('CELL', cell),
  cellStorePrefix: 'STORE#',
  /**
   * An on-change subscription: a consumer (package × env, deployed in `consumerCell`) reads a DataSet whose
   * updates arrive in `cell` (its own cell, or another one for an input with `cell:`).
   */
  subscription: (
    cell: string,
    dataset: { readonly namespace: string; readonly name: string },
    consumer: {
      readonly namespace: string;
      readonly name: string;
      readonly env: string;
      readonly cell: string;
    },
    version: string,
  ): ItemKey => ({
    PK: join('SUB', cell, dataset.namespace, dataset.name),
    // The version is part of the key: a new version's items sit beside the old ones until its commit.
    SK: join(consumer.env, consumer.cell, consumer.namespace, consumer.name, version),
  }),
  subscriptionsPartition: (
    cell: string,
    dataset: { readonly namespace: string; readonly name: string },
  ): string => join('SUB', cell, dataset.namespace, dataset.name),
  /** A DataSet as OpenLineage names it (`{olNs}` / `{olName}`), resolving to a DataKit DataSet in a cell. */
  datasetAlias: (
    lineage: { readonly namespace: string; readonly name: string },
    target: { readonly cell: string; readonly namespace: string; readonly name: string },
  ): ItemKey => ({
    PK: join('DSALIAS', keyPart(lineage.namespace), keyPart(lineage.name)),
    SK: join(target.cell, target.namespace, target.name),
  }),
  datasetAliasPartition: (lineage: { readonly namespace: string; readonly name: string }): string =>
    join('DSALIAS', keyPart(lineage.namespace), keyPart(lineage.name)),
  run: (runId: string): ItemKey => ({ PK: join('DKRUN', runId), SK: '#RUN' }),
  /** Runs newest first: of a package (GSI1), of a cell (GSI2), of everything (GSI3), by `{createdAt}#{runId}`. */
  runsIndex: {
    ofPackage: (namespace: string, name: string): string => join('RUNS', 'PKG', namespace, name),
    ofCell: (cell: string): string => join('RUNS', 'CELL', cell),
    all: 'RUNS',
    sk: (createdAt: string, runId: string): string => join(createdAt, runId),
  },
  /** A run that has not ended, listed under its cell until it does (the orphan check at start). */
  liveRun: (cell: string, runId: string): ItemKey => ({ PK: join('LIVERUNS', cell), SK: runId }),
  liveRunsPartition: (cell: string): string => join('LIVERUNS', cell),
  /** The task definition registered for a spec hash of a family (ECS: reuse instead of a new revision). */
  taskDefinition: (family: string, specHash: string): ItemKey => ({
    PK: join('TASKDEF', family),
    SK: specHash,
  }),
  /** The trigger slot of a consumer in one cell and environment (ADR trigger design). */
  triggerSlot: (cell: string, env: string, namespace: string, name: string): ItemKey => ({
    PK: join('TRIGSLOT', cell, env, namespace, name),
    SK: '#SLOT',
  }),
  /** "This consumer handled this upstream run": an idempotency key of scope `trigger` (expires). */
  triggerHandled: (
    cell: string,
    env: string,
    namespace: string,
    name: string,
    upstreamRunId: string,
  ): ItemKey => ({
    PK: join(
      'IDEMP',
      'trigger',
      createHash('sha256')
        .update([cell, env, namespace, name, upstreamRunId].join('\u0000'), 'utf8')
        .digest('hex'),
    ),
    SK: '#IDEMP',
  }),
  /** An idempotency key of a scope (`runs`, `promotions`, `trigger`), hashed so any key fits. */
  idempotencyKey: (scope: string, key: string): ItemKey => ({
    PK: join('IDEMP', scope, createHash('sha256').update(key, 'utf8').digest('hex')),
    SK: '#IDEMP',
  }),
} as const;
