import type { CellRuntime } from '../contracts/api/cells.js';

/**
 * Starts and stops executions of a cell's run state machine: Step Functions in AWS, the same ASL in
 * process in embedded mode. The execution name is the run id, so starting twice is one execution.
 */
export interface WorkflowStarter {
  /** Starts the run's execution; a second start of the same run is a no-op. */
  startRun(runtime: CellRuntime, runId: string): Promise<void>;
  /** Stops the run's execution if it is still going. */
  stopRun(runtime: CellRuntime, runId: string, cause: string): Promise<void>;
}
