import type { RunStatus, RunTrigger } from '../contracts/api/runs.js';

/** A run the trigger resolver starts: its id is deterministic, so asking twice is one run. */
export interface TriggeredRunRequest {
  readonly runId: string;
  readonly namespace: string;
  readonly name: string;
  readonly env: string;
  readonly cell: string;
  readonly trigger: RunTrigger;
}

/**
 * The outcome of a start: the run exists (created now or earlier, with its current status), or it was
 * refused for a reason a retry will not change (not deployed any more, not a batch Transform...).
 */
export type TriggeredRunStart =
  | { readonly started: true; readonly status: RunStatus }
  | { readonly started: false; readonly refusal: { readonly code: string; readonly message: string } };

/** Starts runs for triggers (the runs use case, ADR 0006). Transient failures throw; the delivery is retried. */
export interface TriggeredRunStarter {
  /** Creates the run unless one with its id exists, starts it if it is still PENDING, returns its status. */
  start(request: TriggeredRunRequest): Promise<TriggeredRunStart>;
}
