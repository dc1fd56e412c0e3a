import { type RunStatus, terminalRunStatuses } from '../../contracts/api/runs.js';
import type { RunRecord } from './model.js';

/** Something that happened to a run; each moves it forward or changes nothing. */
export type RunEvent =
  | { readonly type: 'started'; readonly at: string; readonly family?: string | undefined }
  | { readonly type: 'succeeded'; readonly at: string; readonly exitCode: number; readonly taskArn?: string }
  | {
      readonly type: 'failed';
      readonly at: string;
      readonly error: { readonly code: string; readonly message: string };
      readonly exitCode?: number | undefined;
      readonly taskArn?: string | undefined;
    }
  | { readonly type: 'timed-out'; readonly at: string; readonly message: string }
  | { readonly type: 'cancelled'; readonly at: string; readonly by?: string | undefined }
  | { readonly type: 'orphaned'; readonly at: string };

/** What the use case must do after a transition; adapters carry them out. */
export type RunAction =
  | { readonly type: 'lineage'; readonly eventType: 'START' | 'COMPLETE' | 'FAIL' | 'ABORT' }
  | { readonly type: 'publish'; readonly detailType: 'Run Started' | 'Run Succeeded' | 'Run Failed' }
  /** One `DataSet Updated` per output of the run. */
  | { readonly type: 'publish-outputs-updated' }
  | { readonly type: 'stop-task' }
  | { readonly type: 'stop-execution' };

export interface RunTransition {
  /** The run after the event (the current one when nothing changed). */
  readonly run: RunRecord;
  /** Whether the record must be written. */
  readonly changed: boolean;
  /**
   * Effects to carry out. A repeat of the event that put the run where it is (a retried step) returns the
   * same actions with `changed: false`: the effects are idempotent downstream, and repeating them heals
   * a step that died between its write and its effects.
   */
  readonly actions: readonly RunAction[];
}

const targetOf: Record<RunEvent['type'], RunStatus> = {
  started: 'RUNNING',
  succeeded: 'SUCCEEDED',
  failed: 'FAILED',
  'timed-out': 'TIMED_OUT',
  cancelled: 'CANCELLED',
  orphaned: 'FAILED',
};

/** The statuses each event may leave; anything else is a late or repeated event and changes nothing. */
const allowedFrom: Record<RunEvent['type'], ReadonlySet<RunStatus>> = {
  started: new Set(['PENDING']),
  succeeded: new Set(['RUNNING']),
  failed: new Set(['PENDING', 'RUNNING']),
  'timed-out': new Set(['RUNNING']),
  cancelled: new Set(['PENDING', 'RUNNING']),
  orphaned: new Set(['PENDING', 'RUNNING']),
};

function actionsOf(event: RunEvent): RunAction[] {
  switch (event.type) {
    case 'started':
      return [
        { type: 'lineage', eventType: 'START' },
        { type: 'publish', detailType: 'Run Started' },
      ];
    case 'succeeded':
      return [
        { type: 'lineage', eventType: 'COMPLETE' },
        { type: 'publish', detailType: 'Run Succeeded' },
        { type: 'publish-outputs-updated' },
      ];
    case 'failed':
    case 'timed-out':
    case 'orphaned':
      return [
        { type: 'stop-task' },
        { type: 'lineage', eventType: 'FAIL' },
        { type: 'publish', detailType: 'Run Failed' },
      ];
    case 'cancelled':
      return [
        { type: 'stop-execution' },
        { type: 'stop-task' },
        { type: 'lineage', eventType: 'ABORT' },
        { type: 'publish', detailType: 'Run Failed' },
      ];
  }
}

function durationMs(from: string | undefined, to: string): number | undefined {
  if (from === undefined) return undefined;
  return Math.max(0, Date.parse(to) - Date.parse(from));
}

function finished(run: RunRecord, status: RunStatus, at: string): RunRecord {
  const duration = durationMs(run.startedAt ?? run.createdAt, at);
  return {
    ...run,
    status,
    finishedAt: at,
    updatedAt: at,
    ...(duration === undefined ? {} : { durationMs: duration }),
  };
}

function apply(run: RunRecord, event: RunEvent): RunRecord {
  switch (event.type) {
    case 'started':
      return {
        ...run,
        status: 'RUNNING',
        startedAt: event.at,
        updatedAt: event.at,
        ...(event.family === undefined ? {} : { family: event.family }),
      };
    case 'succeeded':
      return {
        ...finished(run, 'SUCCEEDED', event.at),
        exitCode: event.exitCode,
        ...(event.taskArn === undefined ? {} : { taskArn: event.taskArn }),
      };
    case 'failed':
      return {
        ...finished(run, 'FAILED', event.at),
        error: event.error,
        ...(event.exitCode === undefined ? {} : { exitCode: event.exitCode }),
        ...(event.taskArn === undefined ? {} : { taskArn: event.taskArn }),
      };
    case 'timed-out':
      return {
        ...finished(run, 'TIMED_OUT', event.at),
        error: { code: 'RUN_TIMED_OUT', message: event.message },
      };
    case 'cancelled':
      return {
        ...finished(run, 'CANCELLED', event.at),
        error: {
          code: 'RUN_CANCELLED',
          message:
            event.by === undefined ? 'The run was cancelled.' : `The run was cancelled by ${event.by}.`,
        },
      };
    case 'orphaned':
      return {
        ...finished(run, 'FAILED', event.at),
        error: {
          code: 'RUN_ORPHANED',
          message: 'The control plane that ran it stopped before the run ended; its process was stopped.',
        },
      };
  }
}

/**
 * The one place run status changes (ADR 0006): PENDING → RUNNING → SUCCEEDED | FAILED | TIMED_OUT, and
 * CANCELLED from either live status. Terminal statuses are final whatever order events arrive in; an
 * event that does not apply changes nothing.
 */
export function transitionRun(run: RunRecord, event: RunEvent): RunTransition {
  if (allowedFrom[event.type].has(run.status)) {
    return { run: apply(run, event), changed: true, actions: actionsOf(event) };
  }
  const repeat =
    run.status === targetOf[event.type] &&
    (event.type !== 'failed' || run.error?.code === event.error.code) &&
    (event.type !== 'orphaned' || run.error?.code === 'RUN_ORPHANED');
  return { run, changed: false, actions: repeat ? actionsOf(event) : [] };
}

/** Whether a run has ended. */
export function isTerminal(status: RunStatus): boolean {
  return terminalRunStatuses.has(status);
}
