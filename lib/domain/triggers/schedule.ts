import { Cron } from 'croner';
import type { Problem } from '../../contracts/problem.js';
import { ValidationError } from '../errors.js';
import { deterministicUuid } from '../lineage/event-id.js';
import type { SlotId } from './model.js';

/**
 * Schedules (ADR trigger design): a Transform's 5-field cron in its IANA time zone becomes one EventBridge
 * Scheduler schedule per deployment, `cron(m h dom mon dow year)` with the same time zone; the embedded
 * mode computes the same ticks with croner. Both follow EventBridge Scheduler's daylight-saving rules: a
 * wall-clock time skipped by a spring-forward does not run, a time repeated by a fall-back runs once (at
 * its first occurrence).
 */

/** The cron and time zone a deployment declares (`spec.trigger.schedule`). */
export interface ScheduleSpec {
  readonly cron: string;
  readonly timezone?: string | undefined;
}

/** What EventBridge Scheduler takes: `ScheduleExpression` and `ScheduleExpressionTimezone`. */
export interface SchedulerExpression {
  readonly expression: string;
  readonly timezone: string;
}

export const defaultTimezone = 'UTC';

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /** The largest step (croner's: the number of distinct values). @default max - min + 1 */
  readonly maxStep?: number;
}

const fields = {
  minute: { name: 'minute', min: 0, max: 59 },
  hour: { name: 'hour', min: 0, max: 23 },
  dayOfMonth: { name: 'day-of-month', min: 1, max: 31 },
  month: {
    name: 'month',
    min: 1,
    max: 12,
    names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
  },
  // 0 and 7 are both Sunday in 5-field cron.
  dayOfWeek: {
    name: 'day-of-week',
    min: 0,
    max: 7,
    maxStep: 7,
    names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'],
  },
} as const satisfies Record<string, FieldSpec>;

const nicknames: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** A parsed 5-field cron: the values of each field (day-of-week 0-6, Sunday 0). */
export interface CronSchedule {
  readonly source: string;
  readonly minute: readonly number[];
  readonly hour: readonly number[];
  readonly dayOfMonth: readonly number[];
  readonly month: readonly number[];
  readonly dayOfWeek: readonly number[];
  /** Whether day-of-month / day-of-week were `*` (unrestricted). */
  readonly anyDayOfMonth: boolean;
  readonly anyDayOfWeek: boolean;
}

class CronError extends Error {
  constructor(
    readonly code: 'TRIGGER_CRON_INVALID' | 'TRIGGER_CRON_UNSUPPORTED',
    message: string,
  ) {
    super(message);
  }
}

function parseNumber(text: string, field: FieldSpec): number {
  const upper = text.toUpperCase();
  const named = field.names?.indexOf(upper) ?? -1;
  if (named >= 0) return field.name === 'month' ? named + 1 : named;
  if (!/^\d{1,2}$/u.test(text)) {
    throw new CronError(
      'TRIGGER_CRON_INVALID',
      `${field.name}: "${text}" is not a number${namesHint(field)}`,
    );
  }
  const value = Number(text);
  if (value < field.min || value > field.max) {
    throw new CronError(
      'TRIGGER_CRON_INVALID',
      `${field.name}: ${value} is out of range ${field.min}-${field.max}`,
    );
  }
  return value;
}

function namesHint(field: FieldSpec): string {
  return field.names === undefined ? '' : ` or a name (${field.names[0]}-${field.names.at(-1)})`;
}

/** One field: lists of `*`, `n`, `a-b`, with an optional `/step` after `*` or a range. */
function parseField(text: string, field: FieldSpec): number[] {
  const values = new Set<number>();
  for (const item of text.split(',')) {
    const match = /^([^/]+)(?:\/(\d+))?$/u.exec(item);
    if (match === null || match[1] === undefined) {
      throw new CronError(
        'TRIGGER_CRON_INVALID',
        `${field.name}: "${item}" is not a value, a range or a step`,
      );
    }
    const base = match[1];
    const stepText = match[2];
    let low: number;
    let high: number;
    if (base === '*') {
      low = field.min;
      high = field.max;
    } else if (base.includes('-')) {
      const [from, to, ...rest] = base.split('-');
      if (from === undefined || to === undefined || rest.length > 0) {
        throw new CronError('TRIGGER_CRON_INVALID', `${field.name}: "${base}" is not a range`);
      }
      low = parseNumber(from, field);
      // A range that ends on Sunday by name ends on 7 (FRI-SUN is Friday to Sunday), as croner reads it.
      high = field.name === 'day-of-week' && to.toUpperCase() === 'SUN' ? 7 : parseNumber(to, field);
      if (low > high) {
        throw new CronError(
          'TRIGGER_CRON_INVALID',
          `${field.name}: the range ${base} runs backwards (write it as two ranges)`,
        );
      }
    } else {
      if (stepText !== undefined) {
        throw new CronError(
          'TRIGGER_CRON_INVALID',
          `${field.name}: "${item}" steps from a single value; write ${base}-${field.max}/${stepText}`,
        );
      }
      low = parseNumber(base, field);
      high = low;
    }
    const step = stepText === undefined ? 1 : Number(stepText);
    const maxStep = field.maxStep ?? field.max - field.min + 1;
    if (step < 1 || step > maxStep) {
      throw new CronError(
        'TRIGGER_CRON_INVALID',
        `${field.name}: the step ${stepText} must be between 1 and ${maxStep}`,
      );
    }
    for (let value = low; value <= high; value += step) values.add(value);
  }
  return [...values].sort((a, b) => a - b);
}

function parse(cron: string): CronSchedule {
  const trimmed = cron.trim();
  const expanded = nicknames[trimmed.toLowerCase()] ?? trimmed;
  if (expanded.startsWith('@')) {
    throw new CronError(
      'TRIGGER_CRON_INVALID',
      `"${trimmed}" is not a supported nickname (${Object.keys(nicknames).join(', ')})`,
    );
  }
  const parts = expanded.split(/\s+/u);
  if (parts.length !== 5) {
    throw new CronError(
      'TRIGGER_CRON_INVALID',
      `a cron has 5 fields (minute hour day-of-month month day-of-week), "${trimmed}" has ${parts.length}`,
    );
  }
  const [minute, hour, dayOfMonth, month, dayOfWeek] = parts as [string, string, string, string, string];
  const anyDayOfMonth = dayOfMonth === '*';
  const anyDayOfWeek = dayOfWeek === '*';
  if (!anyDayOfMonth && !anyDayOfWeek) {
    // POSIX cron runs when EITHER field matches; EventBridge Scheduler requires one of them to be `?`.
    throw new CronError(
      'TRIGGER_CRON_UNSUPPORTED',
      `day-of-month (${dayOfMonth}) and day-of-week (${dayOfWeek}) are both restricted: cron runs when either matches, which EventBridge Scheduler cannot express; restrict only one of them and write * in the other`,
    );
  }
  return {
    source: trimmed,
    minute: parseField(minute, fields.minute),
    hour: parseField(hour, fields.hour),
    dayOfMonth: parseField(dayOfMonth, fields.dayOfMonth),
    month: parseField(month, fields.month),
    dayOfWeek: [...new Set(parseField(dayOfWeek, fields.dayOfWeek).map((day) => day % 7))].sort(
      (a, b) => a - b,
    ),
    anyDayOfMonth,
    anyDayOfWeek,
  };
}

/** The problems of a cron and time zone, with their field paths (`{path}.cron`, `{path}.timezone`). */
export function scheduleProblems(spec: Partial<ScheduleSpec>, path = 'spec.trigger.schedule'): Problem[] {
  const problems: Problem[] = [];
  if (spec.cron === undefined || spec.cron.trim() === '') {
    problems.push({
      code: 'TRIGGER_CRON_MISSING',
      path: `${path}.cron`,
      message: 'a schedule needs a cron expression',
    });
  } else {
    try {
      parse(spec.cron);
    } catch (error) {
      if (!(error instanceof CronError)) throw error;
      problems.push({ code: error.code, path: `${path}.cron`, message: error.message });
    }
  }
  if (spec.timezone !== undefined && !isTimezone(spec.timezone)) {
    problems.push({
      code: 'TRIGGER_TIMEZONE_INVALID',
      path: `${path}.timezone`,
      message: `"${spec.timezone}" is not an IANA time zone (e.g. UTC, Europe/Berlin, America/New_York)`,
    });
  }
  return problems;
}

function refuse(problems: readonly Problem[]): never {
  const first = problems[0];
  throw new ValidationError(first?.code ?? 'TRIGGER_CRON_INVALID', first?.message ?? 'invalid schedule', {
    problems,
  });
}

/** Parses a 5-field cron (or a nickname); throws ValidationError TRIGGER_CRON_INVALID / _UNSUPPORTED. */
export function parseCron(cron: string, path = 'spec.trigger.schedule'): CronSchedule {
  const problems = scheduleProblems({ cron }, path);
  if (problems.length > 0) refuse(problems);
  return parse(cron);
}

const timezoneName = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/u;

/** Whether the text names an IANA time zone this runtime knows (offsets like `+01:00` are refused). */
export function isTimezone(timezone: string): boolean {
  if (!timezoneName.test(timezone)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

/** The time zone of a schedule: the given IANA name, `UTC` when none; throws TRIGGER_TIMEZONE_INVALID. */
export function scheduleTimezone(timezone: string | undefined, path = 'spec.trigger.schedule'): string {
  if (timezone === undefined) return defaultTimezone;
  const problems = scheduleProblems({ cron: '* * * * *', timezone }, path);
  if (problems.length > 0) refuse(problems);
  return timezone;
}

/** Renders a field's values: `*`, `start/step`, or ranges and values (`1-5,7`). */
function render(values: readonly number[], min: number, max: number, steps: boolean): string {
  if (values.length === max - min + 1) return '*';
  const first = values[0];
  const second = values[1];
  if (steps && first !== undefined && second !== undefined && values.length >= 3) {
    const step = second - first;
    const progression = values.every((value, index) => value === first + index * step);
    // `a/s` means a, a+s, ... up to the field's maximum: only a progression that reaches it.
    if (progression && (values.at(-1) ?? max) + step > max) return `${first}/${step}`;
  }
  const parts: string[] = [];
  for (let index = 0; index < values.length; ) {
    let end = index;
    while (end + 1 < values.length && (values[end + 1] ?? 0) === (values[end] ?? 0) + 1) end++;
    const low = values[index];
    const high = values[end];
    if (end - index >= 2) parts.push(`${low}-${high}`);
    else for (let k = index; k <= end; k++) parts.push(String(values[k]));
    index = end + 1;
  }
  return parts.join(',');
}

/**
 * A 5-field cron in a time zone → EventBridge Scheduler's `cron(minutes hours day-of-month month
 * day-of-week year)`: the unrestricted day field becomes `?`, day-of-week moves from 0-7 (0 and 7 =
 * Sunday) to 1-7 (1 = Sunday), steps stay steps where EventBridge allows them (not in day-of-week), and
 * every field is written from its values, so names, `7` and overlapping lists need no translation.
 */
export function toSchedulerExpression(
  cron: string,
  timezone?: string,
  path = 'spec.trigger.schedule',
): SchedulerExpression {
  const schedule = parseCron(cron, path);
  const zone = scheduleTimezone(timezone, path);
  const minute = render(schedule.minute, 0, 59, true);
  const hour = render(schedule.hour, 0, 23, true);
  const month = render(schedule.month, 1, 12, true);
  const dayOfMonth = schedule.anyDayOfMonth
    ? schedule.anyDayOfWeek
      ? '*'
      : '?'
    : render(schedule.dayOfMonth, 1, 31, true);
  const dayOfWeek =
    schedule.anyDayOfMonth && !schedule.anyDayOfWeek
      ? render(
          schedule.dayOfWeek.map((day) => day + 1),
          1,
          7,
          false,
        )
      : '?';
  return { expression: `cron(${minute} ${hour} ${dayOfMonth} ${month} ${dayOfWeek} *)`, timezone: zone };
}

/** Wall-clock fields of an instant in a time zone. */
export interface WallClock {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall clock of an instant in a time zone (to the minute). */
export function wallClock(instant: Date, timezone: string): WallClock {
  let format = formatters.get(timezone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formatters.set(timezone, format);
  }
  const parts: Record<string, number> = {};
  for (const part of format.formatToParts(instant)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year ?? 0,
    month: parts.month ?? 0,
    day: parts.day ?? 0,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
  };
}

function offsetMinutes(instant: Date, timezone: string): number {
  const wall = wallClock(instant, timezone);
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute);
  return Math.round((asUtc - Math.floor(instant.getTime() / 60_000) * 60_000) / 60_000);
}

function sameWallClock(a: WallClock, b: WallClock): boolean {
  return (
    a.year === b.year && a.month === b.month && a.day === b.day && a.hour === b.hour && a.minute === b.minute
  );
}

/** Whether the wall-clock time of this instant already happened earlier (the repeated hour of a fall-back). */
function repeatsEarlierTime(instant: Date, timezone: string): boolean {
  const before = new Date(instant.getTime() - 3 * 3600_000);
  const shift = offsetMinutes(before, timezone) - offsetMinutes(instant, timezone);
  if (shift <= 0) return false;
  const earlier = new Date(instant.getTime() - shift * 60_000);
  return sameWallClock(wallClock(earlier, timezone), wallClock(instant, timezone));
}

/**
 * The next `count` ticks strictly after `from`, for the embedded mode's in-process schedules. croner finds
 * the candidates; its own daylight-saving rules (a fixed time in a gap runs after the gap, an interval in
 * a repeated hour runs twice) are brought to EventBridge Scheduler's: a candidate whose wall clock does not
 * match (moved out of a gap) or that repeats an earlier wall-clock time is dropped.
 */
export function nextTicks(cron: string, timezone: string | undefined, from: Date, count: number): Date[] {
  const schedule = parseCron(cron);
  const zone = scheduleTimezone(timezone);
  const job = new Cron(schedule.source, { timezone: zone, paused: true, mode: '5-part' });
  const ticks: Date[] = [];
  let cursor: Date = from;
  // Candidates are dropped only around DST transitions (at most the minutes of a repeated hour each).
  for (let dropped = 0; ticks.length < count && dropped <= 10_000; ) {
    const next = job.nextRun(cursor);
    if (next === null) break;
    cursor = next;
    if (!job.match(next) || repeatsEarlierTime(next, zone)) dropped++;
    else ticks.push(next);
  }
  job.stop();
  return ticks;
}

/**
 * The run id of a schedule tick: a UUID from SHA-256 of the deployment and the scheduled time, so a tick
 * delivered twice, or by the old and the new schedule during a redeploy, is one run.
 */
export function scheduledRunId(id: SlotId, scheduledTime: string): string {
  return deterministicUuid('datakit.schedule', id.cell, id.env, id.namespace, id.name, scheduledTime);
}

/**
 * The EventBridge Scheduler schedule name of a deployment (1-64 of `[0-9a-zA-Z-_.]`): readable when it
 * fits, otherwise shortened with a hash so distinct deployments never share a name.
 */
export function scheduleName(id: SlotId, prefix = 'datakit'): string {
  const readable = [prefix, id.env, id.cell, id.namespace, id.name]
    .join('.')
    .replace(/[^0-9A-Za-z_.-]/gu, '-');
  const hash = deterministicUuid('datakit.schedule-name', id.env, id.cell, id.namespace, id.name)
    .replace(/-/gu, '')
    .slice(0, 12);
  if (readable.length <= 64 && readable === [prefix, id.env, id.cell, id.namespace, id.name].join('.')) {
    return readable;
  }
  return `${readable.slice(0, 51)}-${hash}`;
}

/** A Transform's trigger as a deployment records it (`Deployment.trigger`). */
export interface TriggerPolicy {
  readonly policy: 'schedule' | 'on-change' | 'manual' | 'composite';
  readonly policies?: readonly ('schedule' | 'on-change' | 'manual')[] | undefined;
  readonly cron?: string | undefined;
  readonly timezone?: string | undefined;
}

function includes(trigger: TriggerPolicy | undefined, policy: 'schedule' | 'on-change'): boolean {
  if (trigger === undefined) return false;
  return (
    trigger.policy === policy || (trigger.policy === 'composite' && (trigger.policies ?? []).includes(policy))
  );
}

/** Whether updates of the Transform's inputs start it (`on-change`, or `composite` with it). */
export function triggersOnChange(trigger: TriggerPolicy | undefined): boolean {
  return includes(trigger, 'on-change');
}

/** The schedule a deployment owns (`schedule`, or `composite` with it), or undefined when it has none. */
export function scheduleOf(trigger: TriggerPolicy | undefined): Partial<ScheduleSpec> | undefined {
  if (!includes(trigger, 'schedule')) return undefined;
  return {
    ...(trigger?.cron === undefined ? {} : { cron: trigger.cron }),
    ...(trigger?.timezone === undefined ? {} : { timezone: trigger.timezone }),
  };
}

/** The schedule problems of a trigger (none when it has no schedule), at `{path}.schedule.cron|timezone`. */
export function triggerProblems(trigger: TriggerPolicy | undefined, path = 'spec.trigger'): Problem[] {
  const schedule = scheduleOf(trigger);
  return schedule === undefined ? [] : scheduleProblems(schedule, `${path}.schedule`);
}
