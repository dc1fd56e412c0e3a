import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAuditStore } from '../../../lib/adapters/dynamodb/audit-log.js';
import { DynamoBindingsStore } from '../../../lib/adapters/dynamodb/bindings-store.js';
import { keys } from '../../../lib/adapters/dynamodb/keys.js';
import { createApiHandler } from '../../../lib/api/http-handler.js';
import { type ApiFunctionName, type OperationId, routeList, type routes } from '../../../lib/api/routes.js';
import { namespaceRoles } from '../../../lib/contracts/api/access.js';
import type { StoredAuditRecord } from '../../../lib/ports/audit-log.js';
import { accessDependencies, stubOperations } from '../../support/access.js';
import { apiEvent, lambdaContext } from '../../support/api-event.js';
import { startTestTable, type TestTable } from '../../support/dynamo.js';

/**
 * The authorization matrix (ADR 0018), generated from the route table: every mutating route × every role
 * × a namespace where the caller holds it and one where they hold nothing. The expectation comes from the
 * route's declaration, and the declarations themselves are pinned: a mutating route without a permission,
 * or a new one open to any caller, fails here until it is declared and reviewed. Every request of the
 * matrix, allowed or refused, leaves exactly one audit record naming its caller.
 */

type Routes = typeof routes;
type MutatingOperationId = {
  [K in OperationId]: Routes[K]['method'] extends 'GET' ? never : K;
}[OperationId];

const account = '111122223333';
const user = (name: string) => `arn:aws:iam::${account}:user/${name}`;
/** The callers: one per role in `team-a`, a platform admin, and someone with no role anywhere. */
const callers = {
  none: user('nobody'),
  viewer: user('vera'),
  publisher: user('pat'),
  deployer: user('dora'),
  admin: `arn:aws:sts::${account}:assumed-role/DataAdmins/ada`,
  'platform-admin': user('pam'),
} as const;
type CallerRole = keyof typeof callers;

const home = 'team-a';
const elsewhere = 'team-b';
const runIds = { [home]: randomUUID(), [elsewhere]: randomUUID() };
const promotionIds = { [home]: `p-${home}`, [elsewhere]: `p-${elsewhere}` };

interface Fixture {
  readonly path: string;
  readonly pathParameters?: Record<string, string>;
  readonly body?: unknown;
}

/** A valid request of each mutating route, concerning namespace `ns`: a new mutating route must add one. */
const fixtures: Readonly<Record<MutatingOperationId, (ns: string) => Fixture>> = {
  createRegistration: (ns) => ({
    path: '/v1/registrations',
    body: { reference: `127.0.0.1:5000/${ns}/pkg:1.0.0` },
  }),
  postLineageEvent: () => ({ path: '/api/v1/lineage', body: {} }),
  postLineageBatch: () => ({ path: '/api/v1/lineage/batch', body: [] }),
  putLineageTag: () => ({ path: '/api/v1/tags/pii', pathParameters: { tag: 'pii' }, body: {} }),
  tagLineageJob: (ns) => ({
    path: `/api/v1/namespaces/${ns}/jobs/j/tags/pii`,
    pathParameters: { namespace: ns, job: 'j', tag: 'pii' },
  }),
  untagLineageJob: (ns) => ({
    path: `/api/v1/namespaces/${ns}/jobs/j/tags/pii`,
    pathParameters: { namespace: ns, job: 'j', tag: 'pii' },
  }),
  tagLineageDataset: (ns) => ({
    path: `/api/v1/namespaces/${ns}/datasets/d/tags/pii`,
    pathParameters: { namespace: ns, dataset: 'd', tag: 'pii' },
  }),
  untagLineageDataset: (ns) => ({
    path: `/api/v1/namespaces/${ns}/datasets/d/tags/pii`,
    pathParameters: { namespace: ns, dataset: 'd', tag: 'pii' },
  }),
  tagLineageDatasetField: (ns) => ({
    path: `/api/v1/namespaces/${ns}/datasets/d/fields/f/tags/pii`,
    pathParameters: { namespace: ns, dataset: 'd', field: 'f', tag: 'pii' },
  }),
  untagLineageDatasetField: (ns) => ({
    path: `/api/v1/namespaces/${ns}/datasets/d/fields/f/tags/pii`,
    pathParameters: { namespace: ns, dataset: 'd', field: 'f', tag: 'pii' },
  }),
  putCell: () => ({ path: '/v1/cells/blue', pathParameters: { cell: 'blue' }, body: {} }),
  putCellStore: () => ({
    path: '/v1/cells/blue/stores/lake',
    pathParameters: { cell: 'blue', store: 'lake' },
    body: {},
  }),
  createRun: (ns) => ({
    path: '/v1/runs',
    body: { namespace: ns, name: 'report', cell: 'blue', env: 'dev' },
  }),
  cancelRun: (ns) => ({
    path: `/v1/runs/${runIds[ns as keyof typeof runIds]}/cancel`,
    pathParameters: { runId: runIds[ns as keyof typeof runIds] },
  }),
  createPromotion: (ns) => ({
    path: '/v1/promotions',
    body: { namespace: ns, name: 'report', version: '1.0.0', env: 'dev', cell: 'blue' },
  }),
  decidePromotion: (ns) => ({
    path: `/v1/promotions/${promotionIds[ns as keyof typeof promotionIds]}/approvals`,
    pathParameters: { id: promotionIds[ns as keyof typeof promotionIds] },
    body: { decision: 'approve' },
  }),
  createRollback: (ns) => ({
    path: '/v1/rollbacks',
    body: { namespace: ns, name: 'report', env: 'dev', cell: 'blue' },
  }),
  deprecateDataSet: (ns) => ({
    path: `/v1/datasets/${ns}/orders/deprecation`,
    pathParameters: { namespace: ns, name: 'orders' },
    body: { reason: 'use orders-v2', sunset: '2030-01-01' },
  }),
  deprecatePackage: (ns) => ({
    path: `/v1/packages/${ns}/report/deprecation`,
    pathParameters: { namespace: ns, name: 'report' },
    body: { reason: 'use report-v2', sunset: '2030-01-01' },
  }),
  putNamespaceBindings: (ns) => ({
    path: `/v1/namespaces/${ns}/bindings`,
    pathParameters: { namespace: ns },
    body: { bindings: [] },
  }),
};

/**
 * Who may make each write: the specification the matrix checks the declarations against, so changing a
 * route's permission is a reviewed change of this table too. `caller` and `approver` are open writes.
 */
const required: Readonly<
  Record<MutatingOperationId, 'publisher' | 'deployer' | 'admin' | 'platform-admin' | 'caller' | 'approver'>
> = {
  createRegistration: 'publisher',
  // OpenLineage namespaces are producers' names, not DataKit namespaces; Marquez tags are theirs too.
  postLineageEvent: 'caller',
  postLineageBatch: 'caller',
  putLineageTag: 'caller',
  tagLineageJob: 'caller',
  untagLineageJob: 'caller',
  tagLineageDataset: 'caller',
  untagLineageDataset: 'caller',
  tagLineageDatasetField: 'caller',
  untagLineageDatasetField: 'caller',
  // Cells and their Stores are the platform's, shared by every namespace.
  putCell: 'platform-admin',
  putCellStore: 'platform-admin',
  createRun: 'deployer',
  cancelRun: 'deployer',
  createPromotion: 'deployer',
  // The approval rules decide: a member of a required group, never the requester.
  decidePromotion: 'approver',
  createRollback: 'deployer',
  deprecateDataSet: 'publisher',
  deprecatePackage: 'publisher',
  putNamespaceBindings: 'admin',
};

const mutating = routeList.filter((route) => route.method !== 'GET');

let table: TestTable;
/** The namespace the stub of a `namespace: 'operation'` route finds out (what a registration's artifact says). */
let operationNamespace = home;
const handlers = new Map<ApiFunctionName, ReturnType<typeof createApiHandler>>();

/** Every operation answers 200 once authorized; one resolving its namespace checks it first. */
const operations = stubOperations(async (route, request) => {
  if ('namespace' in route.access && route.access.namespace === 'operation')
    await request.authorize(operationNamespace);
  return { status: 200, body: { ran: route.operationId } };
});

beforeAll(async () => {
  table = await startTestTable();
  const bindings = new DynamoBindingsStore(table.table);
  await bindings.put(
    home,
    [
      { role: 'viewer', principals: [callers.viewer], groups: [] },
      { role: 'publisher', principals: [callers.publisher], groups: [] },
      { role: 'deployer', principals: [], groups: ['release'] },
      { role: 'admin', principals: [`arn:aws:iam::${account}:role/DataAdmins`], groups: [] },
    ],
    callers['platform-admin'],
    new Date().toISOString(),
    0,
  );
  for (const ns of [home, elsewhere]) {
    await table.table.put({ ...keys.run(runIds[ns as keyof typeof runIds]), namespace: ns });
    await table.table.put({
      ...keys.promotion(promotionIds[ns as keyof typeof promotionIds]),
      namespace: ns,
    });
  }
  const deps = accessDependencies(table.table, {
    mode: 'enforced',
    groups: { release: [callers.deployer], 'platform-admins': [callers['platform-admin']] },
  });
  for (const name of new Set(mutating.map((route) => route.function))) {
    handlers.set(name, createApiHandler(name, operations, deps));
  }
});
afterAll(() => table.close());

/** Whether a caller of `role` (held in `home`) may make a write concerning `ns`, per the specification. */
function expected(operationId: MutatingOperationId, role: CallerRole, ns: string): boolean {
  const needed = required[operationId];
  if (role === 'platform-admin' || needed === 'caller' || needed === 'approver') return true;
  if (needed === 'platform-admin') return false;
  return ns === home && role !== 'none' && namespaceRoles.indexOf(role) >= namespaceRoles.indexOf(needed);
}

const requestIds: {
  readonly requestId: string;
  readonly principal: string;
  readonly audited: boolean;
  /** The namespace the request concerns, for routes that name one. */
  readonly namespace: string | undefined;
}[] = [];

async function call(
  operationId: MutatingOperationId,
  role: CallerRole,
  ns: string,
): Promise<APIGatewayProxyResult> {
  const route = mutating.find((candidate) => candidate.operationId === operationId);
  if (route === undefined) throw new Error(`no route ${operationId}`);
  const fixture = fixtures[operationId](ns);
  const event = apiEvent({
    method: route.method,
    resource: route.path,
    path: fixture.path,
    ...(fixture.pathParameters === undefined ? {} : { pathParameters: fixture.pathParameters }),
    ...(fixture.body === undefined
      ? {}
      : { body: JSON.stringify(fixture.body), headers: { 'content-type': 'application/json' } }),
    userArn: callers[role],
  });
  const requestId = randomUUID();
  event.requestContext.requestId = requestId;
  requestIds.push({
    requestId,
    principal: callers[role],
    audited: !(route.access.kind === 'write' && 'audited' in route.access && route.access.audited === false),
    namespace: 'namespace' in route.access ? ns : undefined,
  });
  operationNamespace = ns;
  const handler = handlers.get(route.function);
  if (handler === undefined) throw new Error(`no handler for ${route.function}`);
  return handler(event, lambdaContext());
}

describe('the route table', () => {
  it('declares every mutating route a write and every read a read', () => {
    for (const route of routeList) {
      expect(route.access.kind, `${route.method} ${route.path}`).toBe(
        route.method === 'GET' ? 'read' : 'write',
      );
    }
  });

  it('has a fixture for every mutating route, so each is in the matrix', () => {
    expect(Object.keys(fixtures).sort()).toEqual(mutating.map((route) => route.operationId).sort());
  });

  it('declares each write with the permission the specification gives it', () => {
    for (const route of mutating) {
      const access = route.access;
      expect(access.kind === 'write' ? access.role : access.kind, route.operationId).toBe(
        required[route.operationId as MutatingOperationId],
      );
    }
  });
});

const cases = mutating.flatMap((route) =>
  (Object.keys(callers) as CallerRole[]).flatMap((role) =>
    [home, elsewhere].map(
      (ns) =>
        [
          route.operationId as MutatingOperationId,
          role,
          ns,
          expected(route.operationId as MutatingOperationId, role, ns),
        ] as const,
    ),
  ),
);

describe('the authorization matrix', () => {
  it.each(cases)('%s by %s in %s: allowed=%s', async (operationId, role, ns, allowed) => {
    const response = await call(operationId, role, ns);
    if (allowed) {
      expect(response.statusCode, response.body).toBe(200);
      return;
    }
    expect(response.statusCode, response.body).toBe(403);
    const problem: { code: string; errors: { message: string }[] } = JSON.parse(response.body);
    expect(problem.code).toBe('ROLE_REQUIRED');
    const needed =
      required[operationId] === 'platform-admin' ? 'platform-admin' : `${required[operationId]} in ${ns}`;
    expect(problem.errors[0]?.message).toContain(needed);
  });

  it('left exactly one audit record per audited request, naming its caller', async () => {
    const store = new DynamoAuditStore(table.table, { retentionDays: 400, clock: () => new Date() });
    const records: StoredAuditRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.list({ limit: 100, cursor });
      records.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    const byRequest = new Map<string, StoredAuditRecord[]>();
    for (const record of records) {
      if (record.requestId === undefined) continue;
      byRequest.set(record.requestId, [...(byRequest.get(record.requestId) ?? []), record]);
    }
    expect(requestIds.length).toBe(cases.length);
    for (const { requestId, principal, audited, namespace } of requestIds) {
      const found = byRequest.get(requestId) ?? [];
      expect(found.length, requestId).toBe(audited ? 1 : 0);
      if (audited) expect(found[0]?.principal).toBe(principal);
      // A request concerning a namespace is listed under it, refused or not.
      if (audited && namespace !== undefined) expect(found[0]?.namespace, requestId).toBe(namespace);
    }
  });
});

describe('a write refused before its access is checked', () => {
  it('is listed under the namespace its path names, when the path names a valid one', async () => {
    const store = new DynamoAuditStore(table.table, { retentionDays: 400, clock: () => new Date() });
    const send = async (ns: string) => {
      const event = apiEvent({
        method: 'PUT',
        resource: '/v1/namespaces/{namespace}/bindings',
        path: `/v1/namespaces/${ns}/bindings`,
        pathParameters: { namespace: ns },
        body: JSON.stringify({ bindings: 'everyone' }),
        headers: { 'content-type': 'application/json' },
        userArn: callers['platform-admin'],
      });
      event.requestContext.requestId = randomUUID();
      const handler = handlers.get('access-api');
      if (handler === undefined) throw new Error('no access-api handler');
      const response = await handler(event, lambdaContext());
      expect(response.statusCode, response.body).toBe(400);
      const page = await store.list({ limit: 100, target: `/v1/namespaces/${ns}/bindings` });
      return page.items.find((item) => item.requestId === event.requestContext.requestId);
    };

    expect(await send(home)).toMatchObject({
      namespace: home,
      outcome: 'refused',
      code: 'VALIDATION_FAILED',
    });
    // A path parameter that is no namespace names none.
    const invalid = await send('Not_A_Namespace');
    expect(invalid).toMatchObject({ outcome: 'refused' });
    expect(invalid?.namespace).toBeUndefined();
  });
});
