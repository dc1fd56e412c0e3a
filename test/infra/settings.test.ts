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
