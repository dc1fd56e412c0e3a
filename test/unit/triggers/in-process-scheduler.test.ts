import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InProcessScheduler } from '../../../lib/adapters/local/in-process-scheduler.js';
import type { SlotId } from '../../../lib/domain/triggers/model.js';
import type { ScheduleTick } from '../../../lib/domain/triggers/resolver.js';

const report: SlotId = { cell: 'local', env: 'dev', namespace: 'sales', name: 'report' };
const minute = 60_000;

describe('the in-process scheduler (embedded mode)', () => {
  let ticks: ScheduleTick[];
  let scheduler: InProcessScheduler;

  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-03-08T06:58:30.000Z'));
    ticks = [];
    scheduler = new InProcessScheduler(async (tick) => void ticks.push(tick));
  });
  afterEach(() => {
    scheduler.stop();
    vi.useRealTimers();
  });

  it('fires each tick once, at its minute, in the schedule’s time zone', async () => {
    scheduler.put(report, { cron: '*/30 * * * *', timezone: 'America/New_York' });
    await vi.advanceTimersByTimeAsync(95 * minute);
    expect(ticks.map((tick) => tick.scheduledTime)).toEqual([
      '2026-03-08T07:00:00.000Z', // 03:00 EDT, right after the spring-forward
      '2026-03-08T07:30:00.000Z',
      '2026-03-08T08:00:00.000Z',
      '2026-03-08T08:30:00.000Z',
    ]);
    expect(ticks[0]).toEqual({ ...report, scheduledTime: '2026-03-08T07:00:00.000Z' });
  });

  it('skips the wall-clock time a spring-forward removes, like EventBridge Scheduler', async () => {
    vi.setSystemTime(new Date('2026-03-07T00:00:00.000Z'));
    scheduler.put(report, { cron: '30 2 * * *', timezone: 'America/New_York' });
    await vi.advanceTimersByTimeAsync(3 * 24 * 60 * minute);
    expect(ticks.map((tick) => tick.scheduledTime)).toEqual([
      '2026-03-07T07:30:00.000Z',
      '2026-03-09T06:30:00.000Z',
    ]);
  });

  it('stops a deleted schedule and replaces a changed one', async () => {
    scheduler.put(report, { cron: '* * * * *' });
    await vi.advanceTimersByTimeAsync(2 * minute);
    expect(ticks).toHaveLength(2);
    scheduler.put(report, { cron: '0 * * * *' });
    expect(scheduler.list()).toEqual([{ id: report, spec: { cron: '0 * * * *' } }]);
    await vi.advanceTimersByTimeAsync(30 * minute);
    expect(ticks).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(30 * minute);
    expect(ticks.at(-1)?.scheduledTime).toBe('2026-03-08T08:00:00.000Z');
    scheduler.delete(report);
    await vi.advanceTimersByTimeAsync(120 * minute);
    expect(ticks).toHaveLength(3);
  });

  it('does not replay ticks missed while it was stopped', async () => {
    scheduler.put(report, { cron: '* * * * *' });
    await vi.advanceTimersByTimeAsync(2 * minute);
    scheduler.stop();
    await vi.advanceTimersByTimeAsync(10 * minute);
    scheduler.put(report, { cron: '* * * * *' });
    await vi.advanceTimersByTimeAsync(minute);
    expect(ticks.map((tick) => tick.scheduledTime)).toEqual([
      '2026-03-08T06:59:00.000Z',
      '2026-03-08T07:00:00.000Z',
      '2026-03-08T07:11:00.000Z',
    ]);
  });

  it('keeps going after a tick fails, and reports it', async () => {
    const errors: unknown[] = [];
    const failing = new InProcessScheduler(async () => Promise.reject(new Error('no deployment')), {
      onError: (error) => errors.push(error),
    });
    failing.put(report, { cron: '* * * * *' });
    await vi.advanceTimersByTimeAsync(3 * minute);
    failing.stop();
    expect(errors).toHaveLength(3);
  });

  it('refuses a schedule it could not run', () => {
    expect(() => scheduler.put(report, { cron: '0 0 1 * MON' })).toThrow(
      expect.objectContaining({ code: 'TRIGGER_CRON_UNSUPPORTED' }),
    );
    expect(() => scheduler.put(report, { cron: '0 0 * * *', timezone: 'Mars/Base' })).toThrow(
      expect.objectContaining({ code: 'TRIGGER_TIMEZONE_INVALID' }),
    );
    expect(scheduler.list()).toEqual([]);
  });
});
