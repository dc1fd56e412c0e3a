/**
 * The table's key layout, owned by this module alone (docs/data-model.md lists every access pattern).
 * Entity partitions are `<TYPE>#<id parts>`; singleton items inside a partition start with `#` so they
 * sort before the collections that share the partition.
 */

export interface ItemKey {
  readonly PK: string;
  readonly SK: string;
}

const sep = '#';
const join = (...parts: readonly string[]): string => parts.join(sep);

/**
 * Encodes a semantic version so that lexical order is precedence order: numeric parts are zero-padded,
 * and a release sorts after its pre-releases (`~` sorts after every pre-release character).
 */
export function sortableVersion(version: string): string {
  const match = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(version);
  if (match === null) return `~${version}`;
  const [, major = '0', minor = '0', patch = '0', pre] = match;
  const pad = (n: string) => n.padStart(10, '0');
  const preKey =
    pre === undefined
      ? '~'
      : `-${pre
          .split('.')
          .map((part) => (/^\d+$/.test(part) ? pad(part) : part))
          .join('.')}`;
  return `${pad(major)}.${pad(minor)}.${pad(patch)}${preKey}`;
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
  packageLabel: (key: string, value: string, namespace: string, name: string): ItemKey => ({
    PK: join('LABEL', `${key}=${value}`),
    SK: join('PKG', namespace, name),
  }),
  labelPartition: (key: string, value: string): string => join('LABEL', `${key}=${value}`),
  registration: (id: string): ItemKey => ({ PK: join('REG', id), SK: '#REG' }),
  registrationsIndex: { pk: 'REGS', byStatus: (status: string) => join('REGS', status) },
  dataset: (namespace: string, name: string): ItemKey => ({
    PK: join('DS', namespace, name),
    SK: '#DATASET',
  }),
  datasetPartition: (namespace: string, name: string): string => join('DS', namespace, name),
  datasetsIndex: { pk: 'DATASETS', sk: (namespace: string, name: string) => join(namespace, name) },
  pipelineEdge: (
    datasetNamespace: string,
    dataset: string,
    role: 'producer' | 'consumer',
    packageNamespace: string,
    packageName: string,
  ): ItemKey => ({
    PK: join('DS', datasetNamespace, dataset),
    SK: join('EDGE', role, packageNamespace, packageName),
  }),
  pipelineEdgesIndex: { pk: 'EDGES' },

  // Governance
  auditDay: (day: string): string => join('AUDIT', day),
  auditSubjectIndex: { pk: (subject: string) => join('AUDIT', subject) },

  // Deployments and promotion (issues to come build on these)
  deployment: (namespace: string, name: string, environment: string, cell: string): ItemKey => ({
    PK: join('PKG', namespace, name),
    SK: join('DEPLOY', environment, cell),
  }),
  promotion: (id: string): ItemKey => ({ PK: join('PROMO', id), SK: '#PROMO' }),
  approval: (promotionId: string, group: string, approver: string): ItemKey => ({
    PK: join('PROMO', promotionId),
    SK: join('APPROVAL', group, approver),
  }),
  cell: (cell: string): ItemKey => ({ PK: join('CELL', cell), SK: '#CELL' }),
  cellStore: (cell: string, store: string): ItemKey => ({ PK: join('CELL', cell), SK: join('STORE', store) }),
  subscription: (
    cell: string,
    datasetNamespace: string,
    dataset: string,
    namespace: string,
    name: string,
  ): ItemKey => ({
    PK: join('SUB', cell, datasetNamespace, dataset),
    SK: join('PKG', namespace, name),
  }),
  run: (runId: string): ItemKey => ({ PK: join('DKRUN', runId), SK: '#RUN' }),
  idempotencyKey: (key: string): ItemKey => ({ PK: join('IDEMP', key), SK: '#IDEMP' }),
} as const;
