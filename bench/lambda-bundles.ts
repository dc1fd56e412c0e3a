import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { apiFunctionNames } from '../lib/api/routes.js';
import { functionEntry, projectRoot } from '../stacks/constructs/api-function.js';
import { bundleFileName, esbuildOptions } from '../stacks/constructs/bundling.js';
import { type Metric, median, percentile, registerBenchmark } from './benchmark.js';

const run = promisify(execFile);

/** Fresh processes per bundle and mode; `BENCH_RUNS` overrides (at least 15). */
const requestedRuns = Number.parseInt(process.env.BENCH_RUNS ?? '', 10);
const runs = Number.isInteger(requestedRuns) ? Math.max(15, requestedRuns) : 20;

/** The smallest possible handler, bundled the same way: what every function pays regardless of code. */
const baselineSource = "export const handler = async () => ({ statusCode: 204, body: '' });\n";

interface Bundle {
  readonly name: string;
  readonly file: string;
}

/** Bundles an entry exactly as the stacks do (`esbuildOptions` is what `NodejsFunction` runs). */
async function bundle(name: string, entry: string, workDir: string): Promise<Bundle> {
  const file = join(workDir, name, bundleFileName);
  await build(esbuildOptions(entry, file));
  return { name, file };
}

/**
 * Milliseconds one fresh `node` spends in `await import(bundle)`: parsing and evaluating the bundle and
 * the `@aws-sdk/*` modules it imports (here from this repo's node_modules, in Lambda from the runtime).
 */
async function importTime(file: string, sourceMaps: boolean): Promise<number> {
  const script = [
    'const start = performance.now();',
    `await import(${JSON.stringify(pathToFileURL(file).href)});`,
    'process.stdout.write(String(performance.now() - start));',
  ].join('\n');
  const { stdout } = await run(
    process.execPath,
    [...(sourceMaps ? ['--enable-source-maps'] : []), '--input-type=module', '-e', script],
    {
      cwd: projectRoot,
      // A clean environment: no tsx loader or NODE_OPTIONS inherited from the harness.
      env: {
        PATH: process.env.PATH ?? '',
        AWS_REGION: 'us-east-1',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        POWERTOOLS_SERVICE_NAME: 'datakit',
      },
    },
  );
  const ms = Number(stdout.trim());
  if (!Number.isFinite(ms)) throw new Error(`no timing from ${file}: ${stdout}`);
  return ms;
}

/** Samples every bundle round-robin, after one discarded warm-up each, so drift hits all alike. */
async function sampleImportTimes(
  bundles: readonly Bundle[],
  sourceMaps: boolean,
): Promise<Map<string, number[]>> {
  const samples = new Map(bundles.map((b) => [b.name, [] as number[]]));
  for (const b of bundles) await importTime(b.file, sourceMaps);
  for (let i = 0; i < runs; i += 1) {
    for (const b of bundles) samples.get(b.name)?.push(await importTime(b.file, sourceMaps));
  }
  return samples;
}

registerBenchmark({
  name: 'lambda-bundles',
  description: `size and cold import time of every API function bundle next to an empty handler (${runs} runs)`,
  async run() {
    // Inside the repo (.bench/ is ignored) so the bundles' external @aws-sdk imports resolve.
    await mkdir(join(projectRoot, '.bench'), { recursive: true });
    const workDir = await mkdtemp(join(projectRoot, '.bench', 'lambda-bundles-'));
    try {
      const baselineEntry = join(workDir, 'baseline-src', 'handler.ts');
      await mkdir(join(workDir, 'baseline-src'), { recursive: true });
      await writeFile(baselineEntry, baselineSource);
      const bundles = [
        await bundle('baseline', baselineEntry, workDir),
        ...(await Promise.all(apiFunctionNames.map((name) => bundle(name, functionEntry(name), workDir)))),
      ];

      const metrics: Metric[] = [];
      for (const b of bundles) {
        const code = await readFile(b.file);
        metrics.push(
          { name: `bundle.${b.name}.size`, value: code.length, unit: 'bytes' },
          { name: `bundle.${b.name}.gzip`, value: gzipSync(code).length, unit: 'bytes' },
          { name: `bundle.${b.name}.sourcemap`, value: (await stat(`${b.file}.map`)).size, unit: 'bytes' },
        );
      }
      process.stderr.write(`# timing ${bundles.length} bundles x ${runs} fresh processes x 2 modes\n`);
      const withMaps = await sampleImportTimes(bundles, true);
      const withoutMaps = await sampleImportTimes(bundles, false);
      for (const b of bundles) {
        const timed = withMaps.get(b.name) ?? [];
        const plain = withoutMaps.get(b.name) ?? [];
        metrics.push(
          { name: `bundle.${b.name}.init.median`, value: median(timed), unit: 'ms' },
          { name: `bundle.${b.name}.init.p90`, value: percentile(timed, 90), unit: 'ms' },
          { name: `bundle.${b.name}.init-without-source-maps.median`, value: median(plain), unit: 'ms' },
        );
      }
      return metrics;
    } finally {
      if (process.env.BENCH_KEEP !== '1') await rm(workDir, { recursive: true, force: true });
    }
  },
});
