import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoBindingsStore } from '../../../lib/adapters/dynamodb/bindings-store.js';
import { keys } from '../../../lib/adapters/dynamodb/keys.js';
import { createApiHandler } from '../../../lib/api/http-handler.js';
import { type ApiFunctionName, type OperationId, routeList, type routes } from '../../../lib/api/routes.js';
import { accessDependencies, stubOperations } from '../../support/access.js';
import { apiEvent, lambdaContext } from '../../support/api-event.js';
import { startTestTable, type TestTable } from '../../support/dynamo.js';

/**
 * Reads under `datakit:namespaceReadAccess` = `restricted` (ADR 0018), generated from the route table like
 * the write matrix: a read of a namespace needs `viewer` there, a list across namespaces leaves out what
 * the caller may not view, and bindings and the audit trail need `admin` whatever the read access. Then
 * the enforcement modes: `off`, `enforced`, and `auto` (embedded mode's), which starts with the first
 * binding or platform admin.
 */

type Routes = typeof routes;
type ReadOperationId = { [K in OperationId]: Routes[K]['method'] extends 'GET' ? K : never }[OperationId];

const viewer = 'vera';
const admin = 'ada';
const platformAdmin = 'pam';
const nobody = 'nobody';
const home = 'team-a';
const elsewhere = 'team-b';
const runIds = { [home]: randomUUID(), [elsewhere]: randomUUID() };

/** What each read needs when reads are restricted: the specification the declarations are checked against. */
const required: Readonly<Record<ReadOperationId, 'caller' | 'viewer' | 'admin' | 'platform' | 'filtered'>> = {
  getHealth: 'caller',
  getOpenApi: 'caller',
  listPackages: 'filtered',
  getPackage: 'viewer',
  getPackageVersion: 'viewer',
  listRegistrations: 'filtered',
  listDataSets: 'filtered',
  getDataSet: 'viewer',
  // Spans namespaces and cannot be cut per item.
  getPipeline: 'platform',
  // Cells are the platform's, not a namespace's.
  listCells: 'caller',
  getCell: 'caller',
  listCellStores: 'caller',
  getCellStore: 'caller',
  listRuns: 'filtered',
  getRun: 'viewer',
  getRunLogs: 'viewer',
  listPromotions: 'filtered',
  getPromotion: 'viewer',
  getPackageStatus: 'viewer',
  listEnvironmentDeployments: 'filtered',
  getGovernanceReport: 'viewer',
  getNamespaceBindings: 'admin',
  listAudit: 'admin',
  // OpenLineage namespaces are producers' names, not DataKit namespaces.
  getLineage: 'caller',
  getColumnLineage: 'caller',
  listLineageNamespaces: 'caller',
  getLineageNamespace: 'caller',
  listAllLineageJobs: 'caller',
  listLineageJobs: 'caller',
  getLineageJob: 'caller',
  listLineageJobRuns: 'caller',
  listLineageDatasets: 'caller',
  getLineageDataset: 'caller',
  listLineageDatasetVersions: 'caller',
  getLineageDatasetVersion: 'caller',
  getLineageRun: 'caller',
  getLineageRunFacets: 'caller',
  listLineageTags: 'caller',
  getLineageStats: 'caller',
  searchLineage: 'caller',
  listLineageEvents: 'caller',
  getJobLineageView: 'caller',
};

/** A request of each read that names a namespace, concerning `ns`. */
const fixtures: Partial<Record<ReadOperationId, (ns: string) => Parameters<typeof apiEvent>[0]>> = {
  getPackage: (ns) => ({ resource: '', pathParameters: { namespace: ns, name: 'report' } }),
  getPackageVersion: (ns) => ({
    resource: '',
    pathParameters: { namespace: ns, name: 'report', version: '1.0.0' },
  }),
  getDataSet: (ns) => ({ resource: '', pathParameters: { namespace: ns, name: 'orders' } }),
  getRun: (ns) => ({ resource: '', pathParameters: { runId: runIds[ns as keyof typeof runIds] } }),
  getRunLogs: (ns) => ({ resource: '', pathParameters: { runId: runIds[ns as keyof typeof runIds] } }),
  getPromotion: (ns) => ({ resource: '', pathParameters: { id: `p-${ns}` } }),
  getPackageStatus: (ns) => ({ resource: '', pathParameters: { namespace: ns, name: 'report' } }),
  getGovernanceReport: (ns) => ({ resource: '', query: { filter: `namespace=${ns}` } }),
  getNamespaceBindings: (ns) => ({ resource: '', pathParameters: { namespace: ns } }),
  listAudit: (ns) => ({ resource: '', query: { namespace: ns } }),
};

const reads = routeList.filter((route) => route.method === 'GET');

/** Every operation answers 200 with a page holding an item of each namespace. */
const operations = stubOperations(async () => ({
  status: 200,
  body: { items: [{ namespace: home }, { namespace: elsewhere }, { id: 'no-namespace' }] },
}));

let table: TestTable;
const groups = { 'platform-admins': [platformAdmin] };

function handlersFor(setup: Parameters<typeof accessDependencies>[1]) {
  const deps = accessDependencies(table.table, setup);
  const built = new Map<ApiFunctionName, ReturnType<typeof createApiHandler>>();
  for (const name of new Set(routeList.map((route) => route.function))) {
    if (name !== 'fallback') built.set(name, createApiHandler(name, operations, deps));
  }
  return {
    deps,
    call: (
      operationId: OperationId,
      principal: string,
      options: Partial<Parameters<typeof apiEvent>[0]> = {},
    ) => {
      const route = routeList.find((candidate) => candidate.operationId === operationId);
      const handler = route === undefined ? undefined : built.get(route.function);
      if (route === undefined || handler === undefined) throw new Error(`no route ${operationId}`);
      return handler(
        apiEvent({
          method: route.method,
          ...options,
          resource: route.path,
          path: route.path,
          userArn: principal,
        }),
        lambdaContext(),
      );
    },
  };
}

beforeAll(async () => {
  table = await startTestTable();
  await new DynamoBindingsStore(table.table).put(
    home,
    [
      { role: 'viewer', principals: [viewer], groups: [] },
      { role: 'admin', principals: [admin], groups: [] },
    ],
    platformAdmin,
    new Date().toISOString(),
    0,
  );
  for (const ns of [home, elsewhere]) {
    await table.table.put({ ...keys.run(runIds[ns as keyof typeof runIds]), namespace: ns });
    await table.table.put({ ...keys.promotion(`p-${ns}`), namespace: ns });
  }
});
afterAll(() => table.close());

describe('read declarations', () => {
  it('match the specification, for every read of the route table', () => {
    expect(Object.keys(required).sort()).toEqual(reads.map((route) => route.operationId).sort());
    const declared = (access: (typeof reads)[number]['access']) => {
      if (access.kind !== 'read') return access.kind;
      if (access.of === 'namespace') return 'viewer';
      if (access.of === 'namespaces') return 'filtered';
      return access.of;
    };
    for (const route of reads) {
      expect(declared(route.access), route.operationId).toBe(required[route.operationId as ReadOperationId]);
    }
  });
});

describe('restricted reads', () => {
  const cases = reads.flatMap((route) => {
    const operationId = route.operationId as ReadOperationId;
    const fixture = fixtures[operationId];
    const need = required[operationId];
    if (fixture === undefined) return [];
    return [viewer, admin, nobody, platformAdmin].flatMap((principal) =>
      [home, elsewhere].map((ns) => {
        const rank = principal === admin ? 2 : principal === viewer ? 1 : 0;
        const allowed = principal === platformAdmin || (ns === home && rank >= (need === 'admin' ? 2 : 1));
        return [operationId, principal, ns, allowed] as const;
      }),
    );
  });

  it.each(cases)('%s by %s of %s: allowed=%s', async (operationId, principal, ns, allowed) => {
    const { call } = handlersFor({ mode: 'enforced', readAccess: 'restricted', groups });
    const fixture = fixtures[operationId];
    if (fixture === undefined) throw new Error(`no fixture for ${operationId}`);
    const response = await call(operationId, principal, fixture(ns));
    expect(response.statusCode, response.body).toBe(allowed ? 200 : 403);
  });

  it('lists only the items of namespaces the caller may view', async () => {
    const { call } = handlersFor({ mode: 'enforced', readAccess: 'restricted', groups });
    const items = async (principal: string) => JSON.parse((await call('listPackages', principal)).body).items;
    expect(await items(viewer)).toEqual([{ namespace: home }]);
    expect(await items(nobody)).toEqual([]);
    expect(await items(platformAdmin)).toHaveLength(3);
  });

  it('keeps reads of a namespace open to any caller when read access is open, but not bindings or the audit trail', async () => {
    const { call } = handlersFor({ mode: 'enforced', readAccess: 'open', groups });
    expect((await call('getPackage', nobody, fixtures.getPackage?.(home))).statusCode).toBe(200);
    expect(JSON.parse((await call('listPackages', nobody)).body).items).toHaveLength(3);
    expect(
      (await call('getNamespaceBindings', viewer, fixtures.getNamespaceBindings?.(home))).statusCode,
    ).toBe(403);
    expect((await call('listAudit', admin)).statusCode).toBe(403);
    expect((await call('listAudit', platformAdmin)).statusCode).toBe(200);
  });
});

describe('enforcement modes', () => {
  let modeTable: TestTable;
  beforeEach(async () => {
    await modeTable?.close();
    modeTable = await startTestTable();
  });
  afterAll(() => modeTable?.close());

  const putCell = (deps: ReturnType<typeof accessDependencies>, principal: string) => {
    const handler = createApiHandler('cells-api', operations, deps);
    return handler(
      apiEvent({
        method: 'PUT',
        resource: '/v1/cells/{cell}',
        pathParameters: { cell: 'blue' },
        body: '{}',
        headers: { 'content-type': 'application/json' },
        userArn: principal,
      }),
      lambdaContext(),
    );
  };

  it('off: refuses nobody, even with bindings', async () => {
    await new DynamoBindingsStore(modeTable.table).put(
      home,
      [{ role: 'admin', principals: [admin], groups: [] }],
      admin,
      '2026-01-01T00:00:00Z',
      0,
    );
    expect((await putCell(accessDependencies(modeTable.table, { mode: 'off' }), nobody)).statusCode).toBe(
      200,
    );
  });

  it('enforced: refuses what needs a role nobody holds, before anything is configured', async () => {
    const response = await putCell(accessDependencies(modeTable.table, { mode: 'enforced' }), nobody);
    expect(response.statusCode).toBe(403);
    expect(JSON.parse(response.body).errors[0].message).toBe('platform-admin (group platform-admins)');
  });

  it('auto: allows everything until the first binding, then enforces', async () => {
    const deps = accessDependencies(modeTable.table, { mode: 'auto' });
    expect((await putCell(deps, nobody)).statusCode).toBe(200);
    await new DynamoBindingsStore(modeTable.table).put(
      home,
      [{ role: 'viewer', principals: [viewer], groups: [] }],
      admin,
      '2026-01-01T00:00:00Z',
      0,
    );
    expect((await putCell(deps, nobody)).statusCode).toBe(403);
  });

  it('auto: enforces once the platform-admin group has members, and admits them', async () => {
    const deps = accessDependencies(modeTable.table, { mode: 'auto', groups });
    expect((await putCell(deps, nobody)).statusCode).toBe(403);
    expect((await putCell(deps, platformAdmin)).statusCode).toBe(200);
  });

  it('auto: a namespace whose bindings were all removed does not keep enforcement on', async () => {
    const store = new DynamoBindingsStore(modeTable.table);
    const written = await store.put(
      home,
      [{ role: 'viewer', principals: [viewer], groups: [] }],
      admin,
      '2026-01-01T00:00:00Z',
      0,
    );
    await store.put(home, [], admin, '2026-01-01T00:00:01Z', written.revision);
    expect((await putCell(accessDependencies(modeTable.table, { mode: 'auto' }), nobody)).statusCode).toBe(
      200,
    );
  });
});
