import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DistributionClient } from '../../lib/adapters/oci/distribution-client.js';
import { buildPackageArtifact, pushArtifact } from '../../lib/adapters/oci/package-builder.js';
import { type AuditRecordView, auditPageSchema } from '../../lib/contracts/api/access.js';
import { promotionSchema } from '../../lib/contracts/api/promotions.js';
import { runSchema } from '../../lib/contracts/api/runs.js';
import { runCli } from '../support/cli.js';
import { type ControlPlaneProcess, startControlPlaneProcess } from '../support/control-plane-process.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { reportPackageFiles } from '../support/report-package.js';

/**
 * Issue 11's access control and audit trail through `npm start` and the CLI (ADR 0018): a platform admin
 * sets a namespace's bindings, each role does what it may and is refused what it may not (403
 * ROLE_REQUIRED), and every mutation of the flow — allowed or refused — leaves exactly one audit record
 * naming its caller, which `npm run cli -- audit` lists.
 */

const namespace = 'sales';
const name = 'report';
const groups = { owners: ['olivia'], 'platform-admins': ['pam'] };

let dataDir: string;
let plane: ControlPlaneProcess;
let registry: TestRegistry;

/** Every mutation the flow made through the API, with who made it and what it was answered. */
const mutations: { requestId: string; principal: string; status: number; what: string }[] = [];

/** A mutating request as `principal`, remembered with its request id for the completeness check. */
async function mutate(
  principal: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${plane.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-datakit-principal': principal },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const requestId = response.headers.get('x-request-id');
  if (requestId === null) throw new Error(`${method} ${path} answered without x-request-id`);
  mutations.push({ requestId, principal, status: response.status, what: `${method} ${path}` });
  return { status: response.status, json: await response.json() };
}

/** A CLI command as `npm run cli -- <name> …` runs it, in process, as `principal` (DATAKIT_PRINCIPAL). */
const cli = (principal: string, ...argv: string[]) => runCli(plane.url, principal, ...argv);

async function until<T>(read: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met in time:\n${plane.output().slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The whole trail, as a platform admin reads it through the API, page by page. */
async function trail(): Promise<AuditRecordView[]> {
  const records: AuditRecordView[] = [];
  let cursor: string | undefined;
  do {
    const response = await fetch(
      `${plane.url}/v1/audit?limit=100${cursor === undefined ? '' : `&cursor=${cursor}`}`,
      { headers: { 'x-datakit-principal': 'pam' } },
    );
    expect(response.status).toBe(200);
    const page = auditPageSchema.parse(await response.json());
    records.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return records;
}

async function publish(version: string): Promise<void> {
  await pushArtifact(
    new DistributionClient({ timeoutMs: 10_000 }),
    { registry: registry.host, repository: `${namespace}/${name}` },
    version,
    await buildPackageArtifact(reportPackageFiles(namespace, name, version)),
  );
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'datakit-e2e-access-'));
  // A platform-admin group with members: `auto` (npm start's default) enforces from the start.
  plane = await startControlPlaneProcess(dataDir, { DATAKIT_GROUPS: JSON.stringify(groups) });
  registry = await startRegistry();
  await publish('1.0.0');
});

afterAll(async () => {
  await registry?.stop();
  await plane?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('namespace access control in npm start', () => {
  it('lets each role do what it may, refuses the rest naming the role, and audits every mutation once', async () => {
    const reference = `${registry.host}/${namespace}/${name}:1.0.0`;

    // Before any binding: only the platform admin may change anything.
    const early = await mutate('ci', 'POST', '/v1/registrations', { reference });
    expect(early).toMatchObject({ status: 403, json: { code: 'ROLE_REQUIRED' } });

    const store = await mutate('pam', 'PUT', '/v1/cells/local/stores/files', {
      apiVersion: 'datakit.infoblox.dev/v1alpha1',
      kind: 'Store',
      metadata: { name: 'files' },
      spec: { connector: 'file', connection: { path: join(dataDir, 'files') } },
    });
    expect(store.status).toBe(201);
    const cellByRita = await mutate('rita', 'PUT', '/v1/cells/local/stores/other', {
      apiVersion: 'datakit.infoblox.dev/v1alpha1',
      kind: 'Store',
      metadata: { name: 'other' },
      spec: { connector: 'file', connection: { path: join(dataDir, 'other') } },
    });
    expect(cellByRita).toMatchObject({
      status: 403,
      json: { code: 'ROLE_REQUIRED', errors: [{ message: 'platform-admin (group platform-admins)' }] },
    });

    const bindings = await mutate('pam', 'PUT', `/v1/namespaces/${namespace}/bindings`, {
      bindings: [
        { role: 'publisher', principals: ['ci'] },
        { role: 'deployer', principals: ['rita'] },
        { role: 'admin', groups: ['owners'] },
      ],
    });
    expect(bindings).toMatchObject({ status: 200, json: { revision: 1 } });

    const registered = await mutate('ci', 'POST', '/v1/registrations', { reference });
    expect(registered.status).toBe(201);

    const byPublisher = await mutate('ci', 'POST', '/v1/promotions', {
      namespace,
      name,
      version: '1.0.0',
      env: 'dev',
      cell: 'local',
    });
    expect(byPublisher).toMatchObject({
      status: 403,
      json: {
        code: 'ROLE_REQUIRED',
        errors: [{ path: 'body.namespace', message: `deployer in ${namespace}` }],
      },
    });

    const dev = await mutate('rita', 'POST', '/v1/promotions', {
      namespace,
      name,
      version: '1.0.0',
      env: 'dev',
      cell: 'local',
    });
    expect(promotionSchema.parse(dev.json).status).toBe('DEPLOYED');
    const int = await mutate('rita', 'POST', '/v1/promotions', {
      namespace,
      name,
      version: '1.0.0',
      env: 'int',
      cell: 'local',
    });
    const intId = promotionSchema.parse(int.json).id;
    // Approvals are the approval rules' to decide, not a namespace role's.
    const approved = await mutate('olivia', 'POST', `/v1/promotions/${intId}/approvals`, {
      decision: 'approve',
    });
    expect(approved.status).toBe(200);

    const run = await mutate('rita', 'POST', '/v1/runs', { namespace, name, env: 'dev', cell: 'local' });
    expect(run.status).toBe(202);
    const { runId } = runSchema.parse(run.json);
    const cancelByCi = await mutate('ci', 'POST', `/v1/runs/${runId}/cancel`);
    expect(cancelByCi).toMatchObject({ status: 403, json: { errors: [{ path: 'path.runId' }] } });

    const selfGrant = await mutate('rita', 'PUT', `/v1/namespaces/${namespace}/bindings`, {
      bindings: [{ role: 'admin', principals: ['rita'] }],
    });
    expect(selfGrant).toMatchObject({
      status: 403,
      json: { errors: [{ message: `admin in ${namespace}` }] },
    });

    await until(async () => {
      const response = await fetch(`${plane.url}/v1/promotions/${intId}`);
      const promotion = promotionSchema.parse(await response.json());
      return promotion.status === 'DEPLOYED' ? promotion : undefined;
    });

    const records = await trail();
    for (const mutation of mutations) {
      const mine = records.filter((record) => record.requestId === mutation.requestId);
      expect(mine, mutation.what).toHaveLength(1);
      expect(mine[0], mutation.what).toMatchObject({
        principal: mutation.principal,
        person: mutation.principal,
        outcome: mutation.status < 400 ? 'succeeded' : 'refused',
        request: { status: mutation.status },
      });
    }
    // No request left a record the flow did not make.
    const requests = new Set(mutations.map((mutation) => mutation.requestId));
    expect(
      records.filter((record) => record.requestId !== undefined && !requests.has(record.requestId)),
    ).toEqual([]);
    // What changed state says what it was before and after.
    expect(
      records.find((record) => record.action === 'bindings.put' && record.outcome === 'succeeded'),
    ).toMatchObject({
      namespace,
      target: `bindings:${namespace}`,
      before: [],
      after: [
        { role: 'publisher', principals: ['ci'], groups: [] },
        { role: 'deployer', principals: ['rita'], groups: [] },
        { role: 'admin', principals: [], groups: ['owners'] },
      ],
    });
    expect(records.find((record) => record.requestId === mutations[4]?.requestId)).toMatchObject({
      action: 'package.register',
      namespace,
    });
  });

  it('changes bindings and reads the trail through npm run cli', async () => {
    const granted = await cli(
      'pam',
      'bindings',
      namespace,
      '--grant',
      'viewer=vera',
      '--grant',
      'admin=group:owners',
    );
    expect(granted.code).toBe(0);
    expect(granted.out).toMatch(/^sales: revision 2, by pam/);
    expect(granted.out).toMatch(/viewer\s+vera\s+-/);
    expect(granted.out).toMatch(/admin\s+-\s+owners/);

    // Reading the bindings needs admin too: vera's --revoke stops at the read, which is not audited.
    const revoke = await cli('vera', 'bindings', namespace, '--revoke', 'viewer=vera');
    expect(revoke).toMatchObject({ code: 1, out: expect.stringContaining(`admin in ${namespace}`) });
    const file = join(dataDir, 'bindings.json');
    writeFileSync(file, JSON.stringify([{ role: 'admin', groups: ['owners'] }]));
    const refused = await cli('vera', 'bindings', namespace, '--set', file);
    expect(refused).toMatchObject({ code: 1, out: expect.stringContaining('ROLE_REQUIRED') });
    const set = await cli('olivia', 'bindings', namespace, '--set', file);
    expect(set.out).toMatch(/revision 3, by olivia/);
    expect(set.out).not.toMatch(/vera/);

    const listed = await cli(
      'olivia',
      'audit',
      '--namespace',
      namespace,
      '--action',
      'bindings.*',
      '--limit',
      '3',
    );
    const lines = listed.out.split('\n');
    expect(lines[0]).toMatch(/^AT\s+ACTOR\s+ACTION\s+TARGET\s+OUTCOME\s+REQUEST$/);
    expect(lines.slice(1, 4)).toEqual([
      expect.stringMatching(/\solivia\s+bindings\.put\s+bindings:sales\s+succeeded\s/),
      expect.stringMatching(/\svera\s+bindings\.put\s+bindings:sales\s+refused ROLE_REQUIRED\s/),
      expect.stringMatching(/\spam\s+bindings\.put\s+bindings:sales\s+succeeded\s/),
    ]);
    expect(lines[4]).toMatch(/^more: --cursor \S+$/);

    const bad = await cli('pam', 'audit', '--from', 'yesterday');
    expect(bad).toMatchObject({ code: 1, out: expect.stringContaining('from: an ISO date-time') });
    const byNobody = await cli('ci', 'audit', '--namespace', namespace);
    expect(byNobody).toMatchObject({ code: 1, out: expect.stringContaining(`admin in ${namespace}`) });
  });
});
