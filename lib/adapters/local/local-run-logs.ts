import { join } from 'node:path';
import type { CellRuntime } from '../../contracts/api/cells.js';
import type { LogLine, RunLogs } from '../../ports/run-logs.js';
import { readOutputTail } from './output-capture.js';

/** Run ids name files: only these characters reach a path (the API's run ids are UUIDs). */
export const localTaskIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Where a run's captured stdout/stderr is kept (it outlives the run; its working copy does not). */
export function runOutputFile(dataDir: string, runId: string): string {
  return join(dataDir, 'runs', `${runId}.log`);
}

/** The output of runs in embedded mode: what the local runner captured from stdout and stderr. */
export class LocalRunLogs implements RunLogs {
  constructor(private readonly dataDir: string) {}

  async tail(
    _runtime: CellRuntime,
    run: { readonly runId: string; readonly family: string },
    limit: number,
  ): Promise<LogLine[]> {
    if (!localTaskIdPattern.test(run.runId)) return [];
    return readOutputTail(runOutputFile(this.dataDir, run.runId), limit);
  }
}
