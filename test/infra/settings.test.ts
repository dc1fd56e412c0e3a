import { readFileSync } from 'node:fs';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { parseSettings, SettingsError, settingsKeys } from '../../stacks/settings.js';
import { cdkJson } from './control-plane-fixture.js';

describe('CDK context settings', () => {
  it('applies the documented defaults when the context is empty', () => {
    const settings = parseSettings({});

    expect(settings).toMatchObject({
      stage: 'dev',
      logRetention: RetentionDays.ONE_MONTH,
      logLevel: 'INFO',
      apiThrottleRateLimit: 50,
      apiThrottleBurstLimit: 100,
      apiMinCompressionBytes: 1024,
      apiGatewayCloudWatchRole: true,
      eventArchiveRetentionDays: 90,
      tableEncryption: 'aws-managed',
      tableContributorInsights: false,
      functionMemoryMb: 512,
      functionTimeoutSeconds: 10,
      functionReservedConcurrency: undefined,
      registryAllowlist: [],
      registryBlobHosts: [],
      retention: { lineageEventDays: 400, runDays: 400, registrationDays: 400, auditDays: 400 },
      access: { mode: 'enforced', platformAdminGroup: 'platform-admins', namespaceReadAccess: 'open' },
    });
    expect(settings.serviceVersion).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('accepts the string values `cdk -c key=value` passes', () => {
    const settings = parseSettings({
      'datakit:apiThrottleRateLimit': '7',
      'datakit:logRetentionDays': '14',
      'datakit:tableContributorInsights': 'true',
    });

    expect(settings.apiThrottleRateLimit).toBe(7);
    expect(settings.logRetention).toBe(RetentionDays.TWO_WEEKS);
    expect(settings.tableContributorInsights).toBe(true);
  });

  it('names the key of a bad value', () => {
    expect(() => parseSettings({ 'datakit:logRetentionDays': 8 })).toThrow(SettingsError);
    expect(() => parseSettings({ 'datakit:logRetentionDays': 8 })).toThrow(/datakit:logRetentionDays/);
    expect(() => parseSettings({ 'datakit:stage': 'Prod_1' })).toThrow(/datakit:stage/);
    expect(() => parseSettings({ 'datakit:functionTimeoutSeconds': 60 })).toThrow(
      /datakit:functionTimeoutSeconds/,
    );
    // 1.5 s of a function's time is kept to answer after the registry gives up: 2 s leaves too little.
    expect(() => parseSettings({ 'datakit:functionTimeoutSeconds': 2 })).toThrow(
      /datakit:functionTimeoutSeconds/,
    );
    expect(() => parseSettings({ 'datakit:registryBlobHosts': 'https://blobs.internal' })).toThrow(
      /datakit:registryBlobHosts/,
    );
  });

  it('rejects an unknown datakit: key instead of deploying the default', () => {
    expect(() => parseSettings({ 'datakit:logRetention': 30 })).toThrow(
      /datakit:logRetention: unknown setting/,
    );
  });

  it('ignores context keys of other tools', () => {
    expect(() =>
      parseSettings({ '@aws-cdk/core:checkSecretUsage': true, 'acknowledged-issue-numbers': [] }),
    ).not.toThrow();
  });

  it('cdk.json sets only known settings, each to a valid value', () => {
    const datakitKeys = Object.keys(cdkJson.context).filter((key) => key.startsWith('datakit:'));

    expect(() => parseSettings(cdkJson.context)).not.toThrow();
    expect(datakitKeys.every((key) => settingsKeys.some((known) => known === key))).toBe(true);
  });

  it('cdk.json runs the app with tsx', () => {
    expect(cdkJson.app).toBe('npx tsx bin/app.ts');
  });

  it('README documents every setting in its deployment section', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(
      readme.indexOf('<!-- deploy:start -->'),
      readme.indexOf('<!-- deploy:end -->'),
    );

    for (const key of settingsKeys) expect(section, key).toMatch(new RegExp(`\\|\\s*\`${key}\`\\s*\\|`));
  });
});

describe('datakit:cells', () => {
  const existing = {
    vpcId: 'vpc-0abc1234def567890',
    subnetIds: ['subnet-0aaa1111bbb22222c'],
  };

  it('defaults to no cell', () => {
    expect(parseSettings({}).cells).toEqual([]);
  });

  it('gives a cell of just a name its own VPC (2 AZs, 1 NAT gateway), private tasks and X86_64', () => {
    expect(parseSettings({ 'datakit:cells': [{ name: 'blue' }] }).cells).toEqual([
      {
        name: 'blue',
        description: undefined,
        labels: {},
        network: { kind: 'new', maxAzs: 2, natGateways: 1 },
        assignPublicIp: false,
        cpuArchitecture: 'X86_64',
      },
    ]);
  });

  it('imports an existing network by ids, with extra security groups', () => {
    const [cell] = parseSettings({
      'datakit:cells': [
        { name: 'green', network: { ...existing, securityGroupIds: ['sg-0123456789abcdef0'] } },
      ],
    }).cells;

    expect(cell?.network).toEqual({
      kind: 'existing',
      vpcId: existing.vpcId,
      subnetIds: existing.subnetIds,
      securityGroupIds: ['sg-0123456789abcdef0'],
    });
    expect(cell?.assignPublicIp).toBe(false);
  });

  it('gives tasks a public IP by default when the new VPC has no NAT gateway', () => {
    const [cell] = parseSettings({ 'datakit:cells': [{ name: 'red', network: { natGateways: 0 } }] }).cells;

    expect(cell?.assignPublicIp).toBe(true);
  });

  it('accepts the JSON and the comma-separated forms of `cdk -c`', () => {
    expect(
      parseSettings({ 'datakit:cells': '[{"name":"blue","labels":{"team":"data"}}]' }).cells.map((cell) => [
        cell.name,
        cell.labels,
      ]),
    ).toEqual([['blue', { team: 'data' }]]);
    expect(parseSettings({ 'datakit:cells': 'blue, green' }).cells.map((cell) => cell.name)).toEqual([
      'blue',
      'green',
    ]);
  });

  it.each([
    [[{ name: 'Blue' }], /datakit:cells\.0\.name: must be a DNS-safe name/],
    [[{ name: 'a'.repeat(32) }], /datakit:cells\.0\.name/],
    [[{ name: 'blue' }, { name: 'blue' }], /datakit:cells\.1\.name: cell blue is listed twice/],
    [
      [{ name: 'blue', network: { vpcId: existing.vpcId } }],
      /datakit:cells\.0\.network\.subnetIds: required with vpcId/,
    ],
    [
      [{ name: 'blue', network: { ...existing, maxAzs: 3 } }],
      /datakit:cells\.0\.network\.maxAzs: only for a new VPC/,
    ],
    [[{ name: 'blue', network: { subnetIds: existing.subnetIds } }], /network\.subnetIds: only with vpcId/],
    [[{ name: 'blue', network: { maxAzs: 2, natGateways: 3 } }], /network\.natGateways: at most one per AZ/],
    [[{ name: 'blue', network: { vpcId: 'vpc-1', subnetIds: ['subnet-1'] } }], /network\.vpcId: a VPC id/],
    [
      [{ name: 'blue', network: { natGateways: 0 }, assignPublicIp: false }],
      /\.assignPublicIp: must be true/,
    ],
    [[{ name: 'blue', cpuArchitecture: 'arm' }], /datakit:cells\.0\.cpuArchitecture/],
    [[{ name: 'blue', vpc: 'vpc-0abc1234def567890' }], /datakit:cells\.0: Unrecognized key/i],
    ['[{"name":', /datakit:cells/],
  ])('refuses %j naming the field', (cells, message) => {
    expect(() => parseSettings({ 'datakit:cells': cells })).toThrow(message);
  });
});

describe('promotion settings', () => {
  const owners = 'arn:aws:iam::111122223333:role/Owners';

  it('default to dev → int (owners) → prod (owners, security), no approvers and 7 days', () => {
    const settings = parseSettings({});
    expect(settings.environments.map((env) => [env.name, env.approvals])).toEqual([
      ['dev', []],
      ['int', ['owners']],
      ['prod', ['owners', 'security']],
    ]);
    expect(settings.approverGroups).toEqual({});
    expect(settings.approvalTimeoutDays).toBe(7);
  });

  it('accept the JSON that `-c key=<json>` passes as a string', () => {
    const settings = parseSettings({
      'datakit:approverGroups': JSON.stringify({ owners: [owners] }),
      'datakit:environments': JSON.stringify([{ name: 'dev' }, { name: 'live', approvals: ['owners'] }]),
      'datakit:approvalTimeoutDays': '30',
    });
    expect(settings.approverGroups).toEqual({ owners: [owners] });
    expect(settings.environments.map((env) => env.name)).toEqual(['dev', 'live']);
    expect(settings.approvalTimeoutDays).toBe(30);
  });

  it('name the key and the field of a bad value', () => {
    expect(() => parseSettings({ 'datakit:approverGroups': { owners: ['alice'] } })).toThrow(
      /datakit:approverGroups\.owners\.0: an IAM principal ARN pattern/,
    );
    expect(() => parseSettings({ 'datakit:approverGroups': { Owners: [owners] } })).toThrow(
      /datakit:approverGroups\.Owners/,
    );
    expect(() =>
      parseSettings({ 'datakit:environments': [{ name: 'dev' }, { name: 'dev', approvals: [] }] }),
    ).toThrow(/datakit:environments: environment names must be unique/);
    expect(() =>
      parseSettings({ 'datakit:environments': [{ name: 'prod', approvals: ['owners', 'owners'] }] }),
    ).toThrow(/datakit:environments\.0\.approvals: a group is listed twice/);
    expect(() => parseSettings({ 'datakit:approvalTimeoutDays': 61 })).toThrow(/datakit:approvalTimeoutDays/);
  });
});
