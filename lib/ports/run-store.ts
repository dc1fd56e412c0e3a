import type { RunStatus, TriggerType } from '../contracts/api/runs.js';
import type { RunRecord } from '../domain/runs/model.js';
import type { Page } from './package-repository.js';

export interface ListRunsQuery {
  readonly namespace?: string | undefined;
  readonly name?: string | undefined;
  readonly cell?: string | undefined;
  readonly status?: RunStatus | undefined;
  readonly trigger?: TriggerType | undefined;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

/** The last run of a package in one environment and cell. */
export interface LastRun {
  readonly env: string;
  readonly cell: string;
  readonly runId: string;
  readonly status: RunStatus;
  readonly createdAt: string;
  readonly startedAt?: string | undefined;
  readonly finishedAt?: string | undefined;
}

/** Run records (ADR 0006): created once, then moved forward by conditional writes. */
export interface RunRepository {
  /** Writes a new run (stored with revision 1) unless one with its id exists; false when it does. */
  createRun(run: RunRecord): Promise<boolean>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  /**
   * Writes the run if its stored revision is still `expectedRevision`; false (nothing written) when
   * someone else changed it first — the caller re-reads and re-applies its event.
   */
  updateRun(run: RunRecord, expectedRevision: number): Promise<boolean>;
  /** Runs newest first, by package, cell or all; status and trigger filter the page. */
  listRuns(query: ListRunsQuery): Promise<Page<RunRecord>>;
  /** Runs that have not ended, of every cell (embedded mode's orphan check at start). */
  listLiveRuns(cells: readonly string[]): Promise<RunRecord[]>;
  /** The last run of each environment × cell of a package. */
  lastRuns(namespace: string, name: string): Promise<LastRun[]>;
  /**
   * Claims an idempotency key for `ttlSeconds`: returns undefined when this call claimed it (and stored
   * `value`), else the value stored by whoever claimed it first.
   */
  claimIdempotencyKey(
    scope: string,
    key: string,
    value: string,
    ttlSeconds: number,
  ): Promise<string | undefined>;
}
