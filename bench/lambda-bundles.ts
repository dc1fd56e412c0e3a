import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { type ApiFunctionName, apiFunctionNames } from '../lib/api/routes.js';
import { functionEntry, projectRoot } from '../stacks/constructs/api-function.js';
import { type ApiPermission, apiFunctionPermissions } from '../stacks/constructs/api-permissions.js';
import { bundleFileName, esbuildOptions } from '../stacks/constructs/bundling.js';
import { type Metric, median, percentile, registerBenchmark } from './benchmark.js';

const run = promisify(execFile);

/** Fresh processes per bundle and mode; `BENCH_RUNS` overrides (at least 15). */
const requestedRuns = Number.parseInt(process.env.BENCH_RUNS ?? '', 10);
const runs = Number.isInteger(requestedRuns) ? Math.max(15, requestedRuns) : 20;

type FunctionName = ApiFunctionName | 'registration-worker';

/** The smallest possible handler, bundled the same way: what every function pays regardless of code. */
const baselineSource = "export const handler = async () => ({ statusCode: 204, body: '' });\n";

/** How a function holding a permission constructs its AWS SDK client (module, class, expression). */
interface SdkClient {
  readonly imports: readonly string[];
  readonly construct: string;
}

const dynamoDb: SdkClient = {
  // The table is used through the SDK's document client (`lib/adapters/dynamodb/single-table.ts`).
  imports: [
    "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';",
    "import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';",
  ],
  construct: 'DynamoDBDocumentClient.from(new DynamoDBClient({ region }))',
};
const s3: SdkClient = {
  imports: ["import { S3Client } from '@aws-sdk/client-s3';"],
  construct: 'new S3Client({ region })',
};

/** The AWS SDK client each permission implies (a function holding it calls that service). */
const clientOf: Readonly<Record<ApiPermission, SdkClient>> = {
  'table:read': dynamoDb,
  'table:read-write': dynamoDb,
  'events:put': {
    imports: ["import { EventBridgeClient } from '@aws-sdk/client-eventbridge';"],
    construct: 'new EventBridgeClient({ region })',
  },
  'raw-events:read': s3,
  'raw-events:write': s3,
  'packages:pull': {
    imports: ["import { ECRClient } from '@aws-sdk/client-ecr';"],
    construct: 'new ECRClient({ region })',
  },
};

/** The worker's grants (`stacks/constructs/registration-worker.ts`), next to the API functions'. */
const permissions: Readonly<Record<FunctionName, readonly ApiPermission[]>> = {
  ...apiFunctionPermissions,
  'registration-worker': ['table:read-write', 'events:put', 'packages:pull'],
};

/**
 * The floor of a function: a handler that imports exactly the SDK clients its permissions imply and
 * constructs each once at module load, as any implementation calling those services must. Everything
 * a function costs above its floor is our code and its bundled libraries.
 */
function floorSource(name: FunctionName): string {
  const clients = [...new Set(permissions[name].map((permission) => clientOf[permission]))];
  return [
    ...clients.flatMap((client) => client.imports),
    'const region = process.env.AWS_REGION;',
    `export const clients = [${clients.map((client) => client.construct).join(', ')}];`,
    "export const handler = async () => ({ statusCode: 204, body: '' });",
    '',
  ].join('\n');
}

/** A minimal API Gateway proxy event: enough for the handlers' parser and problem responses. */
function apiEvent(method: string, resource: string, options: { query?: object; body?: string } = {}) {
  return {
    resource,
    path: resource,
    httpMethod: method,
    headers: options.body === undefined ? {} : { 'content-type': 'application/json' },
    queryStringParameters: options.query ?? null,
    pathParameters: null,
    body: options.body ?? null,
    isBase64Encoded: false,
    requestContext: { requestId: 'bench', path: resource },
  };
}

/** An ECR push from an account whose registry is not on the bench's allowlist. */
const foreignEcrPush = {
  'detail-type': 'ECR Image Action',
  source: 'aws.ecr',
  account: '999999999999',
  region: 'us-east-1',
  time: '2026-11-01T00:00:00Z',
  detail: {
    'action-type': 'PUSH',
    result: 'SUCCESS',
    'repository-name': 'dk/team/enrich',
    'image-digest': `sha256:${'a'.repeat(64)}`,
    'image-tag': '1.0.0',
  },
};

/**
 * The first request each function serves in a fresh process: one of its operations, refused by that
 * operation's validation so that no AWS call is made (there is none to make here), or an unknown route
 * where the function has no input to refuse without one. It builds everything a real first request builds before its first AWS call: the
 * composition root, the SDK clients, the middleware and the operation's schemas.
 */
const firstRequests: Readonly<Record<FunctionName, unknown>> = {
  'system-api': apiEvent('GET', '/bench-unknown'),
  fallback: apiEvent('GET', '/bench-unknown'),
  'packages-api': apiEvent('GET', '/v1/packages', { query: { limit: '0' } }),
  // Any request a route serves here is a mutation, and every mutation (refused ones too) writes its audit
  // record to the table: an AWS call the bench has nowhere to make. An unknown route is refused before.
  'registrations-api': apiEvent('GET', '/bench-unknown'),
  'lineage-ingest': apiEvent('POST', '/api/v1/lineage', { body: '{}' }),
  'lineage-api': apiEvent('GET', '/api/v1/lineage'),
  'registration-worker': foreignEcrPush,
  'cells-api': apiEvent('GET', '/v1/cells', { query: { limit: '0' } }),
  'runs-api': apiEvent('GET', '/v1/runs', { query: { limit: '0' } }),
  'promotions-api': apiEvent('GET', '/v1/promotions', { query: { limit: '0' } }),
  'governance-api': apiEvent('GET', '/v1/governance/report', { query: { filter: 'bench=true' } }),
  'access-api': apiEvent('GET', '/v1/audit', { query: { limit: '0' } }),
};

const lambdaContext = {
  functionName: 'bench',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:bench',
  memoryLimitInMB: '512',
  awsRequestId: 'bench',
  logGroupName: 'bench',
  logStreamName: 'bench',
};

interface Bundle {
  readonly name: string;
  /** The entry, `index.mjs`: what Lambda imports. */
  readonly file: string;
  /** Every file of the bundle and the files loaded with the entry (its static imports, transitively). */
  readonly files: readonly string[];
  readonly loadedAtInit: readonly string[];
  /** The event of the timed first invocation. */
  readonly event: unknown;
}

/** Bundles an entry exactly as the stacks do (`esbuildOptions`, `functionCode`). */
async function bundle(name: string, entry: string, event: unknown, workDir: string): Promise<Bundle> {
  const outdir = join(workDir, name);
  const { metafile } = await build({
    ...esbuildOptions(entry, outdir),
    absWorkingDir: projectRoot,
    metafile: true,
  });
  const file = join(outdir, bundleFileName);
  const outputs = metafile.outputs;
  const files = Object.keys(outputs).filter((path) => path.endsWith('.mjs'));
  const entryPath = files.find((path) => join(projectRoot, path) === file);
  if (entryPath === undefined) throw new Error(`${name}: esbuild wrote no ${bundleFileName}`);
  const loaded = new Set<string>();
  const pending = [entryPath];
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    if (loaded.has(path)) continue;
    loaded.add(path);
    for (const imported of outputs[path]?.imports ?? []) {
      if (imported.kind === 'import-statement' && !imported.external) pending.push(imported.path);
    }
  }
  const absolute = (path: string) => join(projectRoot, path);
  return { name, file, files: files.map(absolute), loadedAtInit: [...loaded].map(absolute), event };
}

/** Writes `source` as an entry under `workDir` and bundles it. */
async function bundleSource(name: string, source: string, workDir: string): Promise<Bundle> {
  const entry = join(workDir, `${name}-src`, 'handler.ts');
  await mkdir(join(workDir, `${name}-src`), { recursive: true });
  await writeFile(entry, source);
  return bundle(name, entry, {}, workDir);
}

/** Milliseconds of one fresh process: wall-clock time, and CPU time (user + system, all threads). */
interface Timing {
  /** `await import(bundle)`. */
  readonly init: number;
  readonly initCpu: number;
  /** The import and the first invocation. */
  readonly first: number;
  readonly firstCpu: number;
}

function isTiming(value: unknown): value is Timing {
  if (typeof value !== 'object' || value === null) return false;
  const fields: Record<string, unknown> = { ...value };
  return ['init', 'initCpu', 'first', 'firstCpu'].every((key) => typeof fields[key] === 'number');
}

/**
 * Milliseconds one fresh `node` spends in `await import(bundle)` (parsing and evaluating the bundle and
 * the `@aws-sdk/*` modules it imports: here from this repo's node_modules, in Lambda from the runtime),
 * and until its handler has answered the first request.
 */
async function time(b: Bundle, sourceMaps: boolean): Promise<Timing> {
  const script = [
    'const cpu = () => { const { user, system } = process.cpuUsage(); return (user + system) / 1000; };',
    'const start = performance.now();',
    'const startCpu = cpu();',
    `const { handler } = await import(${JSON.stringify(pathToFileURL(b.file).href)});`,
    'const init = performance.now() - start;',
    'const initCpu = cpu() - startCpu;',
    // A Lambda context has methods (the deadline reads getRemainingTimeInMillis): JSON cannot carry them.
    `await handler(${JSON.stringify(b.event)}, { ...${JSON.stringify(lambdaContext)}, getRemainingTimeInMillis: () => 10_000 });`,
    'const first = performance.now() - start;',
    'const firstCpu = cpu() - startCpu;',
    "process.stdout.write('\\n' + JSON.stringify({ init, initCpu, first, firstCpu }));",
  ].join('\n');
  const { stdout } = await run(
    process.execPath,
    [...(sourceMaps ? ['--enable-source-maps'] : []), '--input-type=module', '-e', script],
    {
      cwd: projectRoot,
      // A clean environment, configured as the stacks configure the functions: no tsx loader or
      // NODE_OPTIONS inherited from the harness, logs off (the Metrics EMF line still prints).
      env: {
        PATH: process.env.PATH ?? '',
        AWS_REGION: 'us-east-1',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        POWERTOOLS_SERVICE_NAME: 'datakit',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        LOG_LEVEL: 'SILENT',
        TABLE_NAME: 'datakit',
        EVENT_BUS_NAME: 'datakit',
        RAW_EVENTS_BUCKET: 'datakit-raw-events',
        REGISTRY_ALLOWLIST: '123456789012.dkr.ecr.us-east-1.amazonaws.com',
      },
    },
  );
  // The last line: the handlers' own output (the Metrics EMF document) comes before it.
  const timing: unknown = JSON.parse(stdout.trim().split('\n').at(-1) ?? '');
  if (!isTiming(timing)) throw new Error(`no timing from ${b.file}: ${stdout}`);
  return timing;
}

/** Samples every bundle round-robin, after one discarded warm-up each, so drift hits all alike. */
async function sample(bundles: readonly Bundle[], sourceMaps: boolean): Promise<Map<string, Timing[]>> {
  const samples = new Map(bundles.map((b) => [b.name, [] as Timing[]]));
  for (const b of bundles) await time(b, sourceMaps);
  for (let i = 0; i < runs; i += 1) {
    for (const b of bundles) samples.get(b.name)?.push(await time(b, sourceMaps));
  }
  return samples;
}

const functionNames: readonly FunctionName[] = [...apiFunctionNames, 'registration-worker'];

registerBenchmark({
  name: 'lambda-bundles',
  description: `size and cold start of every function bundle next to its SDK floor and an empty handler (${runs} runs)`,
  async run() {
    // Inside the repo (.bench/ is ignored) so the bundles' external @aws-sdk imports resolve.
    await mkdir(join(projectRoot, '.bench'), { recursive: true });
    const workDir = await mkdtemp(join(projectRoot, '.bench', 'lambda-bundles-'));
    try {
      const functions = await Promise.all(
        functionNames.map((name) => bundle(name, functionEntry(name), firstRequests[name], workDir)),
      );
      const floors = await Promise.all(
        functionNames.map((name) => bundleSource(`floor-${name}`, floorSource(name), workDir)),
      );
      const baseline = await bundleSource('baseline', baselineSource, workDir);

      const metrics: Metric[] = [];
      for (const b of [baseline, ...functions]) {
        const loaded = Buffer.concat(await Promise.all(b.loadedAtInit.map((file) => readFile(file))));
        const sizes = await Promise.all(b.files.map(async (file) => (await stat(file)).size));
        const maps = await Promise.all(b.files.map(async (file) => (await stat(`${file}.map`)).size));
        const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);
        metrics.push(
          // What a cold start reads: the entry and the chunks it imports statically.
          { name: `bundle.${b.name}.size`, value: loaded.length, unit: 'bytes' },
          { name: `bundle.${b.name}.gzip`, value: gzipSync(loaded).length, unit: 'bytes' },
          // Everything deployed, the chunks only some requests load included.
          { name: `bundle.${b.name}.size.total`, value: sum(sizes), unit: 'bytes' },
          { name: `bundle.${b.name}.sourcemap`, value: sum(maps), unit: 'bytes' },
        );
      }
      const timed = [baseline, ...functions.flatMap((f, i) => [f, floors[i] ?? f])];
      process.stderr.write(`# timing ${timed.length} bundles x ${runs} fresh processes (source maps)\n`);
      const withMaps = await sample(timed, true);
      process.stderr.write(
        `# timing ${functions.length + 1} bundles x ${runs} fresh processes (no source maps)\n`,
      );
      const withoutMaps = await sample([baseline, ...functions], false);
      const timingsOf = (name: string, samples: Map<string, Timing[]>) => samples.get(name) ?? [];
      const medianOf = (timings: readonly Timing[], pick: (t: Timing) => number) => median(timings.map(pick));
      // Each sample of a function is paired with the floor's sample of the same round, so load on the
      // machine that drifts between rounds cancels out of the ratio.
      const pairedRatio = (a: readonly Timing[], b: readonly Timing[], pick: (t: Timing) => number) =>
        median(a.map((t, i) => pick(t) / pick(b[i] ?? t)));

      metrics.push(
        {
          name: 'bundle.baseline.init.median',
          value: medianOf(timingsOf('baseline', withMaps), (t) => t.init),
          unit: 'ms',
        },
        {
          name: 'bundle.baseline.init.cpu.median',
          value: medianOf(timingsOf('baseline', withMaps), (t) => t.initCpu),
          unit: 'ms',
        },
      );
      functions.forEach((f, i) => {
        const timings = timingsOf(f.name, withMaps);
        const floor = timingsOf(floors[i]?.name ?? '', withMaps);
        const at = (name: string, value: number, unit = 'ms') => ({
          name: `bundle.${f.name}.${name}`,
          value,
          unit,
        });
        metrics.push(
          at(
            'init.median',
            medianOf(timings, (t) => t.init),
          ),
          at(
            'init.p90',
            percentile(
              timings.map((t) => t.init),
              90,
            ),
          ),
          at(
            'init.cpu.median',
            medianOf(timings, (t) => t.initCpu),
          ),
          at(
            'init-without-source-maps.median',
            medianOf(timingsOf(f.name, withoutMaps), (t) => t.init),
          ),
          at(
            'first-request.median',
            medianOf(timings, (t) => t.first),
          ),
          at(
            'first-request.cpu.median',
            medianOf(timings, (t) => t.firstCpu),
          ),
          at(
            'floor.init.median',
            medianOf(floor, (t) => t.init),
          ),
          at(
            'floor.init.cpu.median',
            medianOf(floor, (t) => t.initCpu),
          ),
          at(
            'init-to-floor',
            pairedRatio(timings, floor, (t) => t.init),
            'ratio',
          ),
          at(
            'init-to-floor.cpu',
            pairedRatio(timings, floor, (t) => t.initCpu),
            'ratio',
          ),
          at(
            'first-request-to-floor',
            pairedRatio(timings, floor, (t) => t.first),
            'ratio',
          ),
          at(
            'first-request-to-floor.cpu',
            pairedRatio(timings, floor, (t) => t.firstCpu),
            'ratio',
          ),
        );
      });
      return metrics;
    } finally {
      if (process.env.BENCH_KEEP !== '1') await rm(workDir, { recursive: true, force: true });
    }
  },
});
