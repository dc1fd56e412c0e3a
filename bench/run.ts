import { type Metric, registeredBenchmarks } from './benchmark.js';
// One line per benchmark module; each registers itself with registerBenchmark().
import './lambda-bundles.js';
import './registration.js';
import './lineage.js';
import './artifact-memory.js';
import './soak.js';
import './triggers.js';
import './runs.js';
import './governance-report.js';
import './pii-gate.js';

/**
 * `npm run bench` runs every benchmark; `npm run bench -- <name>...` runs those; `--list` lists them.
 * Metrics go to stdout, one `name value unit` line each; progress goes to stderr.
 */
async function main(args: readonly string[]): Promise<number> {
  const benchmarks = registeredBenchmarks();
  if (args.includes('--list')) {
    for (const benchmark of benchmarks) process.stdout.write(`${benchmark.name}\t${benchmark.description}\n`);
    return 0;
  }
  const unknown = args.filter((name) => !benchmarks.some((benchmark) => benchmark.name === name));
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown benchmark ${unknown.join(', ')}; known: ${benchmarks.map((b) => b.name).join(', ')}\n`,
    );
    return 2;
  }
  const selected = args.length === 0 ? benchmarks : benchmarks.filter((b) => args.includes(b.name));
  for (const benchmark of selected) {
    process.stderr.write(`# ${benchmark.name}: ${benchmark.description}\n`);
    const metrics = await benchmark.run();
    for (const metric of metrics) process.stdout.write(`${formatMetric(metric)}\n`);
  }
  return 0;
}

function formatMetric(metric: Metric): string {
  const value = Number.isInteger(metric.value) ? String(metric.value) : metric.value.toFixed(2);
  return `${metric.name} ${value} ${metric.unit}`;
}

process.exitCode = await main(process.argv.slice(2));
