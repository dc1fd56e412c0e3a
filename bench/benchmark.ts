import type { TableStats } from '../lib/adapters/dynamodb/single-table.js';

/** One measured value, printed as `name value unit`. */
export interface Metric {
  /** Dotted, stable name: `bundle.packages-api.gzip`. */
  readonly name: string;
  readonly value: number;
  /** `bytes`, `ms`, `ops/s`, ... */
  readonly unit: string;
}

/** A named benchmark: `npm run bench -- <name>` runs it alone. */
export interface Benchmark {
  readonly name: string;
  /** One line for `npm run bench -- --list`. */
  readonly description: string;
  run(): Promise<readonly Metric[]>;
}

const registry = new Map<string, Benchmark>();

/** Adds a benchmark to the harness; a module under bench/ calls this once at import. */
export function registerBenchmark(benchmark: Benchmark): void {
  if (registry.has(benchmark.name)) throw new Error(`benchmark ${benchmark.name} is registered twice`);
  registry.set(benchmark.name, benchmark);
}

/** Every registered benchmark, in registration order. */
export function registeredBenchmarks(): readonly Benchmark[] {
  return [...registry.values()];
}

/** The median of a non-empty sample (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle];
  const lower = sorted[sorted.length % 2 === 0 ? middle - 1 : middle];
  if (upper === undefined || lower === undefined) throw new Error('median of an empty sample');
  return (lower + upper) / 2;
}

/** The nearest-rank percentile `p` (0–100] of a non-empty sample. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const value = sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
  if (value === undefined) throw new Error('percentile of an empty sample');
  return value;
}

/** The table's counters from `before` to `after`, per one of `count` operations. */
export function tableStatsPer(before: TableStats, after: TableStats, count: number): TableStats {
  return {
    requests: (after.requests - before.requests) / count,
    itemsRead: (after.itemsRead - before.itemsRead) / count,
    itemsWritten: (after.itemsWritten - before.itemsWritten) / count,
    readCapacityUnits: (after.readCapacityUnits - before.readCapacityUnits) / count,
    writeCapacityUnits: (after.writeCapacityUnits - before.writeCapacityUnits) / count,
  };
}
