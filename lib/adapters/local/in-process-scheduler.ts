import type { SlotId } from '../../domain/triggers/model.js';
import type { ScheduleTick } from '../../domain/triggers/resolver.js';
import { nextTicks, parseCron, type ScheduleSpec, scheduleTimezone } from '../../domain/triggers/schedule.js';

/** setTimeout's longest delay; a later tick is reached through intermediate wake-ups. */
const maxDelayMs = 2 ** 31 - 1;

interface Entry {
  readonly id: SlotId;
  readonly spec: ScheduleSpec;
  timer?: ReturnType<typeof setTimeout> | undefined;
  /** Bumped by every put/delete, so a timer of a replaced schedule does nothing when it fires. */
  readonly generation: number;
}

/**
 * The embedded mode's EventBridge Scheduler: one in-process schedule per deployment, firing at the ticks
 * `nextTicks` computes (the same conversion, time zones and daylight-saving rules as AWS). Ticks missed
 * while the process was stopped are not replayed; after the machine slept, the tick it was waiting for
 * fires late and the ones after it that passed are skipped. A tick calls `onTick` (the resolver's `onScheduleTick`); a failing tick is reported to
 * `onError` and the schedule goes on.
 */
export class InProcessScheduler {
  private readonly entries = new Map<string, Entry>();
  private generations = 0;

  constructor(
    private readonly onTick: (tick: ScheduleTick) => Promise<unknown>,
    private readonly options: {
      readonly clock?: () => Date;
      readonly onError?: (error: unknown, tick: ScheduleTick) => void;
    } = {},
  ) {}

  /** Creates or replaces the schedule of a deployment; throws TRIGGER_CRON_* / TRIGGER_TIMEZONE_INVALID. */
  put(id: SlotId, spec: ScheduleSpec): void {
    parseCron(spec.cron);
    scheduleTimezone(spec.timezone);
    this.delete(id);
    const entry: Entry = { id, spec, generation: ++this.generations };
    this.entries.set(keyOf(id), entry);
    this.arm(id, entry);
  }

  /** Removes the schedule of a deployment (nothing when it has none). */
  delete(id: SlotId): void {
    const entry = this.entries.get(keyOf(id));
    if (entry?.timer !== undefined) clearTimeout(entry.timer);
    this.entries.delete(keyOf(id));
  }

  /** The deployments that have a schedule, with it. */
  list(): { readonly id: SlotId; readonly spec: ScheduleSpec }[] {
    return [...this.entries.values()].map((entry) => ({ id: entry.id, spec: entry.spec }));
  }

  /** Stops every schedule (the process is shutting down). */
  stop(): void {
    for (const entry of this.entries.values()) if (entry.timer !== undefined) clearTimeout(entry.timer);
    this.entries.clear();
  }

  private now(): Date {
    return this.options.clock?.() ?? new Date();
  }

  private arm(id: SlotId, entry: Entry): void {
    const [next] = nextTicks(entry.spec.cron, entry.spec.timezone, this.now(), 1);
    if (next === undefined) return;
    this.wakeAt(id, entry, next);
  }

  private wakeAt(id: SlotId, entry: Entry, at: Date): void {
    const delay = at.getTime() - this.now().getTime();
    const timer = setTimeout(
      () => {
        if (this.entries.get(keyOf(id))?.generation !== entry.generation) return;
        if (at.getTime() > this.now().getTime()) {
          // An intermediate wake-up of a far tick, or a timer that fired early.
          this.wakeAt(id, entry, at);
          return;
        }
        const tick: ScheduleTick = { ...id, scheduledTime: at.toISOString() };
        this.onTick(tick).catch((error: unknown) => this.options.onError?.(error, tick));
        this.arm(id, entry);
      },
      Math.max(0, Math.min(delay, maxDelayMs)),
    );
    timer.unref?.();
    entry.timer = timer;
  }
}

function keyOf(id: SlotId): string {
  return JSON.stringify([id.cell, id.env, id.namespace, id.name]);
}
