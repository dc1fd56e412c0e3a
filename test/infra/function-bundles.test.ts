import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApiFunctionName } from '../../lib/api/routes.js';
import { functionEntry } from '../../stacks/constructs/api-function.js';
import { esbuildOptions } from '../../stacks/constructs/bundling.js';

// Each function bundles and loads only the AWS SDK clients it calls: the SDK is most of a cold start,
// so a capability wired into the wrong module would cost every function (see `lib/runtime/wiring/`).
// Every function but the fallback has the table, and the X-Ray SDK (its AWS SDK v3 patcher needs one
// @smithy package) to trace it.
const dynamoDb = [
  '@aws-sdk/client-dynamodb',
  '@aws-sdk/lib-dynamodb',
  '@smithy/service-error-classification',
];
const runPlane = [
  ...dynamoDb,
  '@aws-sdk/client-cloudwatch-logs',
  '@aws-sdk/client-codepipeline',
  '@aws-sdk/client-ecs',
  '@aws-sdk/client-eventbridge',
  '@aws-sdk/client-s3',
  '@aws-sdk/client-scheduler',
  '@aws-sdk/client-secrets-manager',
  '@aws-sdk/client-sfn',
];
const sdkPackages: Readonly<
  Record<ApiFunctionName | 'registration-worker' | 'promotion-stages' | 'promotion-events', readonly string[]>
> = {
  'system-api': dynamoDb,
  'packages-api': dynamoDb,
  'registrations-api': [...dynamoDb, '@aws-sdk/client-ecr', '@aws-sdk/client-eventbridge'],
  'registration-worker': [...dynamoDb, '@aws-sdk/client-ecr', '@aws-sdk/client-eventbridge'],
  'lineage-ingest': [...dynamoDb, '@aws-sdk/client-eventbridge', '@aws-sdk/client-s3'],
  'lineage-api': [...dynamoDb, '@aws-sdk/client-s3'],
  // The run functions share one composition; the services only some of them call are imported on first
  // use (lib/runtime/wiring/aws-runs.ts), so they are in the bundle but not loaded at init.
  'cells-api': runPlane,
  'runs-api': runPlane,
  'promotions-api': runPlane,
  // The promotion pipelines' functions: the stages report their jobs to CodePipeline.
  'promotion-stages': runPlane,
  'promotion-events': runPlane,
  // The lineage graph is read from the table alone: raw events (S3) are not its business.
  'governance-api': [...dynamoDb, '@aws-sdk/client-eventbridge'],
  // Bindings and the audit trail are table items; audit records are copied to the bus.
  'access-api': [...dynamoDb, '@aws-sdk/client-eventbridge'],
  fallback: [],
};

const workDir = mkdtempSync(join(tmpdir(), 'datakit-bundles-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** The AWS SDK packages (external: the runtime provides them) a function's bundle imports. */
async function externalImports(name: string): Promise<string[]> {
  const result = await build({
    ...esbuildOptions(functionEntry(name), join(workDir, name)),
    metafile: true,
    write: false,
  });
  const packages = Object.values(result.metafile.outputs).flatMap((output) =>
    output.imports.filter((imported) => imported.external).map((imported) => imported.path),
  );
  return [...new Set(packages.filter((path) => /^@(aws-sdk|smithy)\//.test(path)))].sort();
}

describe('function bundles', () => {
  it.each(Object.entries(sdkPackages))(
    '%s imports exactly the AWS SDK clients it calls',
    async (name, expected) => {
      expect(await externalImports(name)).toEqual([...expected].sort());
    },
  );
});
