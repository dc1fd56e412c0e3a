import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { terminalRunStatuses } from '../../../lib/contracts/api/runs.js';
import { newRunRecord, type RunRecord } from '../../../lib/domain/runs/model.js';
import { type RunEvent, transitionRun } from '../../../lib/domain/runs/run-state.js';

const pending = (): RunRecord =>
  newRunRecord({
    runId: '6f2a3c4d-1111-4222-8333-444455556666',
    namespace: 'sales',
    name: 'orders',
    version: '1.0.0',
    digest: 'sha256:abc',
    env: 'dev',
    cell: 'local',
    trigger: { type: 'manual' },
    createdAt: '2026-01-01T00:00:00.000Z',
  });

const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString();

const eventArbitrary: fc.Arbitrary<RunEvent> = fc.oneof(
  fc.nat(50).map((s) => ({ type: 'started' as const, at: at(s) })),
  fc.nat(50).map((s) => ({ type: 'succeeded' as const, at: at(s), exitCode: 0 })),
  fc.nat(50).map((s) => ({
    type: 'failed' as const,
    at: at(s),
    exitCode: 2,
    error: { code: 'RUN_EXIT_NONZERO', message: 'x' },
  })),
  fc.nat(50).map((s) => ({ type: 'timed-out' as const, at: at(s), message: 'late' })),
  fc.nat(50).map((s) => ({ type: 'cancelled' as const, at: at(s), by: 'alice' })),
  fc.nat(50).map((s) => ({ type: 'orphaned' as const, at: at(s) })),
);

describe('run state transitions', () => {
  it('moves PENDING → RUNNING → SUCCEEDED and says what to emit at each step', () => {
    const started = transitionRun(pending(), {
      type: 'started',
      at: at(1),
      family: 'datakit-local-sales-orders',
    });
    expect(started.run).toMatchObject({
      status: 'RUNNING',
      startedAt: at(1),
      family: 'datakit-local-sales-orders',
    });
    expect(started.actions).toEqual([
      { type: 'lineage', eventType: 'START' },
      { type: 'publish', detailType: 'Run Started' },
    ]);
    const succeeded = transitionRun(started.run, { type: 'succeeded', at: at(4), exitCode: 0 });
    expect(succeeded.run).toMatchObject({
      status: 'SUCCEEDED',
      finishedAt: at(4),
      durationMs: 3000,
      exitCode: 0,
    });
    expect(succeeded.actions.map((action) => action.type)).toEqual([
      'lineage',
      'publish',
      'publish-outputs-updated',
    ]);
  });

  it('never lets a late start undo an ending', () => {
    const cancelled = transitionRun(pending(), { type: 'cancelled', at: at(1), by: 'bob' });
    expect(cancelled.run.status).toBe('CANCELLED');
    const late = transitionRun(cancelled.run, { type: 'started', at: at(2) });
    expect(late).toEqual({ run: cancelled.run, changed: false, actions: [] });
  });

  it('repeats the actions of a repeated event without writing, so a retried step heals its effects', () => {
    const running = transitionRun(pending(), { type: 'started', at: at(1) }).run;
    const done = transitionRun(running, { type: 'succeeded', at: at(2), exitCode: 0 });
    const again = transitionRun(done.run, { type: 'succeeded', at: at(9), exitCode: 0 });
    expect(again.changed).toBe(false);
    expect(again.run.finishedAt).toBe(at(2));
    expect(again.actions).toEqual(done.actions);
  });

  it('does not succeed a run that was never started', () => {
    const result = transitionRun(pending(), { type: 'succeeded', at: at(1), exitCode: 0 });
    expect(result.changed).toBe(false);
    expect(result.run.status).toBe('PENDING');
  });

  it('names the cancelling principal and the orphaned reason in the error', () => {
    expect(transitionRun(pending(), { type: 'cancelled', at: at(1), by: 'carol' }).run.error).toEqual({
      code: 'RUN_CANCELLED',
      message: 'The run was cancelled by carol.',
    });
    expect(transitionRun(pending(), { type: 'orphaned', at: at(1) }).run.error?.code).toBe('RUN_ORPHANED');
  });

  it('only ever moves forward: once terminal, no sequence of events changes the status', () => {
    fc.assert(
      fc.property(fc.array(eventArbitrary, { maxLength: 12 }), (events) => {
        let run = pending();
        let terminal: string | undefined;
        for (const event of events) {
          const next = transitionRun(run, event);
          if (terminal !== undefined) {
            expect(next.changed).toBe(false);
            expect(next.run.status).toBe(terminal);
          }
          if (next.changed) expect(next.run.status).not.toBe(run.status);
          run = next.run;
          if (terminalRunStatuses.has(run.status)) terminal ??= run.status;
        }
      }),
    );
  });
});
