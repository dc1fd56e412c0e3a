import type { CellRuntime } from '../contracts/api/cells.js';

/** One line a Transform wrote, with when it was written (when known). */
export interface LogLine {
  readonly at?: string | undefined;
  readonly stream: 'stdout' | 'stderr' | 'combined';
  readonly message: string;
}

/** The output of runs: CloudWatch Logs in AWS, captured stdout/stderr in embedded mode. */
export interface RunLogs {
  /** The last `limit` lines of the run's output, oldest first; empty when it wrote nothing (yet). */
  tail(
    runtime: CellRuntime,
    run: { readonly runId: string; readonly family: string },
    limit: number,
  ): Promise<LogLine[]>;
}
