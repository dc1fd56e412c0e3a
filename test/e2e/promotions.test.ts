import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DistributionClient } from '../../lib/adapters/oci/distribution-client.js';
import { buildPackageArtifact, pushArtifact } from '../../lib/adapters/oci/package-builder.js';
import { auditPageSchema } from '../../lib/contracts/api/access.js';
import { packageStatusSchema } from '../../lib/contracts/api/deployments.js';
import { type Promotion, promotionSchema } from '../../lib/contracts/api/promotions.js';
import { runSchema } from '../../lib/contracts/api/runs.js';
import { runCli } from '../support/cli.js';
import { type ControlPlaneProcess, startControlPlaneProcess } from '../support/control-plane-process.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import { reportPackageFiles } from '../support/report-package.js';

/**
 * Issue 10's acceptance through `npm start` and the CLI: a package walks dev → int → prod with one owner
 * for int and an owner and a security member (two people, not the requester) for prod, and nothing
 * less; a rejected promotion deploys nothing; a self-approval is refused; a rollback goes back through
 * the same gates; `status` shows what is deployed where with its last run. Issue 11's PII gate: a package
 * copying PII into an internal DataSet is refused at prod (governed), and accepted with a governance
 * override once security approved.
 */

const namespace = 'e2e';
const name = 'report';
const groups = { owners: ['olivia', 'oscar', 'sam'], security: ['sara', 'steve', 'sam'] };

let dataDir: string;
let plane: ControlPlaneProcess;
let registry: TestRegistry;

/** A CLI command as `npm run cli -- <name> …` runs it, in process, as `principal` (DATAKIT_PRINCIPAL). */
const cli = (principal: string, ...argv: string[]) => runCli(plane.url, principal, ...argv);

async function get(path: string): Promise<unknown> {
  const response = await fetch(`${plane.url}${path}`);
  return response.json();
}

/** The promotion id a CLI answer names (`… (promotion <id>)`). */
function promotionIdOf(out: string): string {
  const id = /\(promotion ([0-9a-f-]{36})\)/.exec(out)?.[1];
  if (id === undefined) throw new Error(`no promotion id in: ${out}`);
  return id;
}

async function until<T>(read: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met in time:\n${plane.output().slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function promotion(id: string): Promise<Promotion> {
  return promotionSchema.parse(await get(`/v1/promotions/${id}`));
}

async function ended(id: string): Promise<Promotion> {
  return until(async () => {
    const current = await promotion(id);
    return ['DEPLOYED', 'REJECTED', 'EXPIRED', 'FAILED'].includes(current.status) ? current : undefined;
  });
}

async function deployed(env: string): Promise<string | undefined> {
  const status = packageStatusSchema.parse(await get(`/v1/packages/${namespace}/${name}/status`));
  return status.deployments.find((row) => row.env === env && row.cell === 'local')?.version;
}

async function publish(version: string): Promise<void> {
  const artifact = await buildPackageArtifact(reportPackageFiles(namespace, name, version));
  await pushArtifact(
    new DistributionClient({ timeoutMs: 10_000 }),
    { registry: registry.host, repository: `${namespace}/${name}` },
    version,
    artifact,
  );
  const response = await fetch(`${plane.url}/v1/registrations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-datakit-principal': 'ci' },
    body: JSON.stringify({ reference: `${registry.host}/${namespace}/${name}:${version}` }),
  });
  expect([200, 201]).toContain(response.status);
}

/** A version promoted by rita to dev, int (olivia approves) and prod (oscar and steve approve). */
async function walk(version: string): Promise<void> {
  expect(
    (await cli('rita', 'promote', `${namespace}/${name}`, version, '--to', 'dev', '--cell', 'local')).code,
  ).toBe(0);
  const int = promotionIdOf(
    (await cli('rita', 'promote', `${namespace}/${name}`, version, '--to', 'int', '--cell', 'local')).out,
  );
  await cli('olivia', 'approve', int);
  expect(await ended(int)).toMatchObject({ status: 'DEPLOYED' });
  const prod = promotionIdOf(
    (await cli('rita', 'promote', `${namespace}/${name}`, version, '--to', 'prod', '--cell', 'local')).out,
  );
  await cli('oscar', 'approve', prod);
  await cli('steve', 'approve', prod);
  expect(await ended(prod)).toMatchObject({ status: 'DEPLOYED' });
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'datakit-e2e-promotions-'));
  plane = await startControlPlaneProcess(dataDir, { DATAKIT_GROUPS: JSON.stringify(groups) });
  registry = await startRegistry();
  const store = await fetch(`${plane.url}/v1/cells/local/stores/files`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      apiVersion: 'datakit.infoblox.dev/v1alpha1',
      kind: 'Store',
      metadata: { name: 'files' },
      spec: { connector: 'file', connection: { path: join(dataDir, 'files') } },
    }),
  });
  expect(store.status).toBe(201);
  await publish('1.0.0');
  await publish('1.1.0');
});

/** A package whose only manifest is `dk.yaml`, pushed and registered. */
async function publishManifest(package_: string, version: string, manifest: string): Promise<void> {
  await pushArtifact(
    new DistributionClient({ timeoutMs: 10_000 }),
    { registry: registry.host, repository: `${namespace}/${package_}` },
    version,
    await buildPackageArtifact({ 'dk.yaml': manifest }),
  );
  const response = await fetch(`${plane.url}/v1/registrations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-datakit-principal': 'ci' },
    body: JSON.stringify({ reference: `${registry.host}/${namespace}/${package_}:${version}` }),
  });
  expect([200, 201], await response.text()).toContain(response.status);
}

afterAll(async () => {
  await registry?.stop();
  await plane?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('promotion in npm start', () => {
  it('walks dev → int → prod with one owner for int, an owner and a security member for prod, and nothing less', async () => {
    const dev = await cli(
      'rita',
      'promote',
      `${namespace}/${name}`,
      '1.0.0',
      '--to',
      'dev',
      '--cell',
      'local',
    );
    expect(dev.out).toMatch(/1\.0\.0 → dev\/local: DEPLOYED/);

    const early = await cli(
      'rita',
      'promote',
      `${namespace}/${name}`,
      '1.0.0',
      '--to',
      'prod',
      '--cell',
      'local',
    );
    expect(early).toMatchObject({ code: 1, out: expect.stringContaining('PROMOTION_ORDER_VIOLATION') });

    const int = await cli(
      'rita',
      'promote',
      `${namespace}/${name}`,
      '1.0.0',
      '--to',
      'int',
      '--cell',
      'local',
    );
    expect(int.out).toMatch(/AWAITING_APPROVAL[\s\S]*waiting for approvals of owners/);
    const intId = promotionIdOf(int.out);

    const self = await cli('rita', 'approve', intId);
    expect(self).toMatchObject({ code: 1, out: expect.stringContaining('SELF_APPROVAL') });
    const outsider = await cli('sara', 'approve', intId);
    expect(outsider).toMatchObject({ code: 1, out: expect.stringContaining('APPROVAL_GROUP_FORBIDDEN') });
    expect(await deployed('int')).toBeUndefined();

    expect((await cli('olivia', 'approve', intId)).code).toBe(0);
    expect(await ended(intId)).toMatchObject({
      status: 'DEPLOYED',
      approvals: [{ group: 'owners', person: 'olivia' }],
    });
    expect(await deployed('int')).toBe('1.0.0');

    const prodId = promotionIdOf(
      (await cli('rita', 'promote', `${namespace}/${name}`, '1.0.0', '--to', 'prod', '--cell', 'local')).out,
    );
    expect((await cli('sam', 'approve', prodId, '--group', 'owners')).code).toBe(0);
    const twice = await cli('sam', 'approve', prodId, '--group', 'security');
    expect(twice).toMatchObject({ code: 1, out: expect.stringContaining('APPROVER_ALREADY_COUNTED') });
    expect(await promotion(prodId)).toMatchObject({ status: 'AWAITING_APPROVAL' });
    expect(await deployed('prod')).toBeUndefined();

    expect((await cli('sara', 'approve', prodId, '--comment', 'checked the PII report')).code).toBe(0);
    expect(await ended(prodId)).toMatchObject({
      status: 'DEPLOYED',
      approvals: [
        { group: 'owners', person: 'sam' },
        { group: 'security', person: 'sara', comment: 'checked the PII report' },
      ],
    });
    expect(await deployed('prod')).toBe('1.0.0');
  });

  it('ends a rejected promotion without deploying it', async () => {
    await cli('rita', 'promote', `${namespace}/${name}`, '1.1.0', '--to', 'dev', '--cell', 'local');
    const intId = promotionIdOf(
      (await cli('rita', 'promote', `${namespace}/${name}`, '1.1.0', '--to', 'int', '--cell', 'local')).out,
    );
    const rejected = await cli('oscar', 'reject', intId, '--comment', 'not this week');
    expect(rejected.out).toMatch(/REJECTED[\s\S]*rejected for owners by oscar/);
    expect(await promotion(intId)).toMatchObject({ status: 'REJECTED' });
    expect(await deployed('int')).toBe('1.0.0');
    const late = await cli('olivia', 'approve', intId);
    expect(late).toMatchObject({ code: 1, out: expect.stringContaining('PROMOTION_ENDED') });
  });

  it('rolls prod back to the previous version through the same approvals', async () => {
    await walk('1.1.0');
    expect(await deployed('prod')).toBe('1.1.0');

    const rollback = await cli(
      'rita',
      'rollback',
      `${namespace}/${name}`,
      '--env',
      'prod',
      '--cell',
      'local',
    );
    expect(rollback.out).toMatch(/1\.0\.0 → prod\/local: AWAITING_APPROVAL .*rollback from 1\.1\.0/);
    const id = promotionIdOf(rollback.out);
    expect((await cli('rita', 'approve', id)).out).toContain('SELF_APPROVAL');
    await cli('olivia', 'approve', id);
    expect(await deployed('prod')).toBe('1.1.0');
    await cli('steve', 'approve', id);
    expect(await ended(id)).toMatchObject({ status: 'DEPLOYED', rollback: { fromVersion: '1.1.0' } });
    expect(await deployed('prod')).toBe('1.0.0');
  });

  it('shows what is deployed where with its last run, through npm run cli', async () => {
    const started = await fetch(`${plane.url}/v1/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ namespace, name, env: 'prod', cell: 'local' }),
    });
    const { runId } = runSchema.parse(await started.json());
    await until(async () => {
      const run = runSchema.parse(await get(`/v1/runs/${runId}`));
      return run.status === 'SUCCEEDED' ? run : undefined;
    });

    const { stdout } = await promisify(execFile)(
      'npm',
      ['run', '--silent', 'cli', '--', 'status', `${namespace}/${name}`],
      {
        env: { ...process.env, DATAKIT_URL: plane.url },
      },
    );
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^Environment\s+Cell\s+Version\s+Status\s+Last run$/);
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^dev\s+local\s+1\.1\.0\s+Deployed\s+-$/),
      expect.stringMatching(/^int\s+local\s+1\.1\.0\s+Deployed\s+-$/),
      expect.stringMatching(
        new RegExp(`^prod\\s+local\\s+1\\.0\\.0\\s+Deployed\\s+SUCCEEDED .*\\(${runId}\\)$`),
      ),
    ]);
  });
});

describe('the PII gate of prod in npm start', () => {
  const mailer = `${namespace}/mailer`;
  const piiDataSet = (
    dataset: string,
    classification: string,
    schema: string,
  ) => `apiVersion: datakit.infoblox.dev/v1alpha1
kind: DataSet
metadata: { name: ${dataset}, namespace: ${namespace}, version: 1.0.0 }
spec:
  store: files
  prefix: ${dataset}/
  classification: ${classification}
  schema: ${schema}
`;

  beforeAll(async () => {
    await publishManifest(
      'customers',
      '1.0.0',
      piiDataSet(
        'customers',
        'confidential',
        '[{ name: id, type: string }, { name: email, type: string, pii: true }]',
      ),
    );
    await publishManifest(
      'mailing',
      '1.0.0',
      piiDataSet('mailing', 'internal', '[{ name: email, type: string }]'),
    );
    await publishManifest(
      'mailer',
      '1.0.0',
      `apiVersion: datakit.infoblox.dev/v1alpha1
kind: Transform
metadata: { name: mailer, namespace: ${namespace}, version: 1.0.0 }
spec:
  runtime: generic-python
  image: team/mailer:1.0.0
  command: ["node", "-e", "console.log('mailer')"]
  inputs: [{ dataset: customers }]
  outputs: [{ dataset: mailing }]
  trigger: { policy: manual }
  timeout: 1m
`,
    );
  });

  it('refuses a PII flow into an internal DataSet at prod, and accepts it with an override and security’s approval', async () => {
    expect((await cli('rita', 'promote', mailer, '1.0.0', '--to', 'dev', '--cell', 'local')).out).toContain(
      'DEPLOYED',
    );
    const int = promotionIdOf(
      (await cli('rita', 'promote', mailer, '1.0.0', '--to', 'int', '--cell', 'local')).out,
    );
    await cli('olivia', 'approve', int);
    expect(await ended(int)).toMatchObject({ status: 'DEPLOYED' });
    expect((await promotion(int)).governance).toBeUndefined();

    const refused = await cli('rita', 'promote', mailer, '1.0.0', '--to', 'prod', '--cell', 'local');
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(/^error GOVERNANCE_PII_FLOW: prod is governed/);
    expect(refused.out).toContain(
      '  - e2e/customers → e2e/mailing: DataSet e2e/mailing is classified internal',
    );
    const listed = (await get(`/v1/promotions?namespace=${namespace}&name=mailer&env=prod`)) as {
      items: unknown[];
    };
    expect(listed.items).toEqual([]);

    // The real CLI, as a user runs it.
    const { stdout } = await promisify(execFile)(
      'npm',
      [
        'run',
        '--silent',
        'cli',
        '--',
        'promote',
        mailer,
        '1.0.0',
        '--to',
        'prod',
        '--cell',
        'local',
        '--governance-override-reason',
        'DPA-17: mailing is pseudonymised before it leaves',
      ],
      { env: { ...process.env, DATAKIT_URL: plane.url, DATAKIT_PRINCIPAL: 'rita' } },
    );
    expect(stdout).toMatch(/1\.0\.0 → prod\/local: AWAITING_APPROVAL/);
    expect(stdout).toContain('waiting for approvals of owners, security');
    expect(stdout).toContain('PII gate: OVERRIDDEN (DPA-17: mailing is pseudonymised before it leaves)');
    expect(stdout).toContain('  e2e/customers → e2e/mailing (internal)');
    const prod = promotionIdOf(stdout);

    expect((await cli('oscar', 'promotions', '--status', 'AWAITING_APPROVAL')).out).toMatch(
      new RegExp(`${prod}\\s+e2e/mailer\\s+1\\.0\\.0 \\(PII override\\)`),
    );
    expect((await cli('oscar', 'approve', prod)).code).toBe(0);
    expect((await cli('rita', 'approve', prod, '--group', 'security')).out).toContain('SELF_APPROVAL');
    expect(await promotion(prod)).toMatchObject({ status: 'AWAITING_APPROVAL' });
    expect((await cli('steve', 'approve', prod, '--comment', 'DPA-17 checked')).code).toBe(0);
    expect(await ended(prod)).toMatchObject({
      status: 'DEPLOYED',
      governance: {
        override: { reason: 'DPA-17: mailing is pseudonymised before it leaves' },
        violations: [{ dataset: { namespace, name: 'mailing' }, path: ['e2e/customers', 'e2e/mailing'] }],
      },
    });
    const status = packageStatusSchema.parse(await get(`/v1/packages/${namespace}/mailer/status`));
    expect(status.deployments.find((row) => row.env === 'prod')?.version).toBe('1.0.0');

    // The override is part of its request's one audit record (ADR 0018), as is the refusal before it.
    const trail = auditPageSchema
      .parse(await get(`/v1/audit?namespace=${namespace}&action=promotion.request&actor=rita&limit=100`))
      .items.filter((record) => record.target === `package:${namespace}/mailer`);
    const overridden = trail.filter((record) =>
      record.effects?.some((effect) => effect.action === 'promotion.governance-override'),
    );
    expect(overridden).toEqual([
      expect.objectContaining({
        outcome: 'succeeded',
        effects: expect.arrayContaining([
          expect.objectContaining({
            action: 'promotion.governance-override',
            details: expect.objectContaining({ reason: 'DPA-17: mailing is pseudonymised before it leaves' }),
          }),
        ]),
      }),
    ]);
    expect(trail.filter((record) => record.code === 'GOVERNANCE_PII_FLOW')).toHaveLength(1);
  });
});
