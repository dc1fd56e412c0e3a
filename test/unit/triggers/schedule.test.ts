import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/domain/errors.js';
import {
  nextTicks,
  scheduleName,
  scheduleOf,
  scheduleProblems,
  scheduleTimezone,
  toSchedulerExpression,
  triggerProblems,
  triggersOnChange,
} from '../../../lib/domain/triggers/schedule.js';

// --- an independent evaluator of EventBridge Scheduler's 6-field cron, for the properties ---------------

const monthNames = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const dayNames = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** One EventBridge field → the set of values it allows (undefined for `?`: no constraint). */
function ebField(
  text: string,
  min: number,
  max: number,
  names: readonly string[] = [],
): Set<number> | undefined {
  if (text === '?') return undefined;
  const value = (token: string) => {
    const index = names.indexOf(token.toUpperCase());
    return index >= 0 ? index + 1 : Number(token);
  };
  const allowed = new Set<number>();
  for (const item of text.split(',')) {
    const [range = '', stepText] = item.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    let [low, high] = [min, max];
    if (range !== '*') {
      const [from = '', to] = range.split('-');
      low = value(from);
      // `a/s` runs from a to the end of the field; a bare `a` is just a.
      high = to !== undefined ? value(to) : stepText !== undefined ? max : low;
    }
    for (let v = low; v <= high; v += step) allowed.add(v);
  }
  return allowed;
}

interface EbCron {
  readonly minute: Set<number>;
  readonly hour: Set<number>;
  readonly dayOfMonth: Set<number> | undefined;
  readonly month: Set<number>;
  readonly dayOfWeek: Set<number> | undefined;
}

function parseEb(expression: string): EbCron {
  const match = /^cron\((.*)\)$/.exec(expression);
  const fields = match?.[1]?.split(' ') ?? [];
  expect(fields).toHaveLength(6);
  const [minute = '', hour = '', dom = '', month = '', dow = '', year = ''] = fields;
  expect(year).toBe('*');
  // Exactly one of day-of-month and day-of-week is `?` (EventBridge refuses anything else).
  expect([dom, dow].filter((field) => field === '?')).toHaveLength(1);
  expect(dow).not.toContain('/');
  const all = (set: Set<number> | undefined) => {
    if (set === undefined) throw new Error('only day fields may be ?');
    return set;
  };
  return {
    minute: all(ebField(minute, 0, 59)),
    hour: all(ebField(hour, 0, 23)),
    dayOfMonth: ebField(dom, 1, 31),
    month: all(ebField(month, 1, 12, monthNames)),
    dayOfWeek: ebField(dow, 1, 7, dayNames),
  };
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>();
const walls = new Map<string, ReturnType<typeof readWall>>();
/** Wall-clock fields of an instant in a zone, remembered (windows of many cases overlap). */
function wall(instant: number, zone: string) {
  const key = `${zone} ${instant}`;
  let fields = walls.get(key);
  if (fields === undefined) {
    fields = readWall(instant, zone);
    walls.set(key, fields);
  }
  return fields;
}

/** Wall-clock fields of an instant in a zone, read with Intl (the evaluator's own reading). */
function readWall(instant: number, zone: string) {
  let format = zoneFormats.get(zone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    zoneFormats.set(zone, format);
  }
  const parts = Object.fromEntries(
    format.formatToParts(new Date(instant)).map((part) => [part.type, part.value]),
  );
  const [year, month, day, hour, minute] = [parts.year, parts.month, parts.day, parts.hour, parts.minute].map(
    Number,
  ) as [number, number, number, number, number];
  const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;
  return { year, month, day, hour, minute, weekday, key: `${year}-${month}-${day} ${hour}:${minute}` };
}

/**
 * EventBridge Scheduler's ticks of an expression in a zone after `from` up to `to`, minute by minute: a
 * wall-clock time that does not exist never matches, one that exists twice fires at its first occurrence.
 */
function evaluate(cron: EbCron, zone: string, from: number, to: number, limit: number): number[] {
  const seen = new Set<string>();
  const ticks: number[] = [];
  // Start early enough to see the first occurrence of a repeated hour that began before `from`.
  for (let t = Math.floor(from / 60_000) * 60_000 - 4 * 3600_000; t <= to; t += 60_000) {
    const w = wall(t, zone);
    const matches =
      cron.minute.has(w.minute) &&
      cron.hour.has(w.hour) &&
      cron.month.has(w.month) &&
      (cron.dayOfMonth?.has(w.day) ?? true) &&
      (cron.dayOfWeek?.has(w.weekday) ?? true);
    if (!matches || seen.has(w.key)) continue;
    seen.add(w.key);
    if (t > from) ticks.push(t);
    if (ticks.length === limit) break;
  }
  return ticks;
}

/** The instants in 2026 where a zone's UTC offset changes (hourly scan, then to the minute). */
function transitions(zone: string): number[] {
  const offset = (t: number) => {
    const w = wall(t, zone);
    return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute) - t;
  };
  const found: number[] = [];
  for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2027, 0, 1); t += 3600_000) {
    if (offset(t) === offset(t + 3600_000)) continue;
    let minute = t;
    while (offset(minute) === offset(t)) minute += 60_000;
    found.push(minute);
  }
  return found;
}

const zones = ['America/New_York', 'Europe/Berlin', 'Australia/Lord_Howe', 'Asia/Kolkata', 'UTC'] as const;
const zoneTransitions = new Map(zones.map((zone) => [zone, transitions(zone)]));

// --- random 5-field expressions ------------------------------------------------------------------------

function fieldArbitrary(
  min: number,
  max: number,
  names: readonly string[] = [],
  nameOffset = 0,
  maxStep = max - min + 1,
) {
  const value = fc.integer({ min, max });
  const token = (v: number) =>
    names.length > 0 && v - nameOffset >= 0 && v - nameOffset < names.length
      ? fc.constantFrom(String(v), (names[v - nameOffset] ?? '').toLowerCase(), names[v - nameOffset] ?? '')
      : fc.constant(String(v));
  const range = fc
    .tuple(value, value)
    .map(([a, b]): [number, number] => (a <= b ? [a, b] : [b, a]))
    .chain(([a, b]) => fc.tuple(token(a), token(b)).map(([x, y]) => `${x}-${y}`));
  const step = fc.integer({ min: 1, max: maxStep });
  const item = fc.oneof(
    value.chain(token),
    range,
    step.map((s) => `*/${s}`),
    fc.tuple(range, step).map(([r, s]) => `${r}/${s}`),
  );
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant('*') },
    { weight: 5, arbitrary: fc.array(item, { minLength: 1, maxLength: 3 }).map((items) => items.join(',')) },
  );
}

const minuteArbitrary = fieldArbitrary(0, 59);
// Hours around the usual transition times come up often.
const hourArbitrary = fc.oneof(fieldArbitrary(0, 23), fieldArbitrary(0, 4));
const dayOfMonthArbitrary = fieldArbitrary(1, 31);
const monthArbitrary = fc.oneof(
  { weight: 3, arbitrary: fc.constant('*') },
  { weight: 1, arbitrary: fieldArbitrary(1, 12, monthNames, 1) },
);
const dayOfWeekArbitrary = fieldArbitrary(0, 7, dayNames, 0, 7);
const cronArbitrary = fc
  .tuple(
    minuteArbitrary,
    hourArbitrary,
    fc.oneof(
      fc.constant(['*', '*'] as const),
      dayOfMonthArbitrary.map((dom) => [dom, '*'] as const),
      dayOfWeekArbitrary.map((dow) => ['*', dow] as const),
    ),
    monthArbitrary,
  )
  .map(([minute, hour, [dom, dow], month]) => `${minute} ${hour} ${dom} ${month} ${dow}`);

/** A window start: near one of the zone's 2026 transitions (or any day for zones without). */
const windowArbitrary = fc.constantFrom(...zones).chain((zone) => {
  const near = zoneTransitions.get(zone) ?? [];
  const anchor = near.length > 0 ? fc.constantFrom(...near) : fc.constant(Date.UTC(2026, 5, 1));
  return fc
    .tuple(anchor, fc.integer({ min: -12 * 60, max: 3 * 60 }))
    .map(([at, minutes]) => ({ zone, from: at + minutes * 60_000 + 17_000 }));
});

const day = 24 * 3600_000;

describe('schedule conversion', () => {
  it.each([
    ['*/15 * * * *', 'cron(0/15 * * * ? *)'],
    ['0 9 * * 1-5', 'cron(0 9 ? * 2-6 *)'],
    ['0 9 * * MON-FRI', 'cron(0 9 ? * 2-6 *)'],
    ['5 4 * * sun', 'cron(5 4 ? * 1 *)'],
    ['0 0 * * 0,7', 'cron(0 0 ? * 1 *)'],
    ['0 0 * * FRI-SUN', 'cron(0 0 ? * 1,6,7 *)'],
    ['0 0 * * */2', 'cron(0 0 ? * 1,3,5,7 *)'],
    ['0 0 1,15 * *', 'cron(0 0 1,15 * ? *)'],
    ['0 */6 * * *', 'cron(0 0/6 * * ? *)'],
    ['30 2 * JAN-MAR/2 *', 'cron(30 2 * 1,3 ? *)'],
    ['10-50/20 8-17 * * *', 'cron(10/20 8-17 * * ? *)'],
    ['0 0 1-31 * *', 'cron(0 0 * * ? *)'],
    ['@daily', 'cron(0 0 * * ? *)'],
    ['@weekly', 'cron(0 0 ? * 1 *)'],
  ])('converts %s to %s', (cron, expression) => {
    expect(toSchedulerExpression(cron, 'Europe/Berlin')).toEqual({ expression, timezone: 'Europe/Berlin' });
  });

  it('uses UTC when the Transform names no time zone', () => {
    expect(toSchedulerExpression('0 6 * * *')).toEqual({ expression: 'cron(0 6 * * ? *)', timezone: 'UTC' });
    expect(scheduleTimezone(undefined)).toBe('UTC');
  });

  it('refuses day-of-month and day-of-week together, naming the field, since EventBridge cannot OR them', () => {
    const attempt = () => toSchedulerExpression('0 0 1 * MON', 'UTC');
    expect(attempt).toThrow(ValidationError);
    expect(attempt).toThrow(expect.objectContaining({ code: 'TRIGGER_CRON_UNSUPPORTED' }));
    expect(scheduleProblems({ cron: '0 0 */2 * 1-5' })).toEqual([
      {
        code: 'TRIGGER_CRON_UNSUPPORTED',
        path: 'spec.trigger.schedule.cron',
        message: expect.stringContaining('both restricted'),
      },
    ]);
  });

  it.each([
    ['0 0 * * * *', 'has 6'],
    ['0 0 * *', 'has 4'],
    ['60 * * * *', 'minute: 60 is out of range 0-59'],
    ['0 24 * * *', 'hour: 24 is out of range'],
    ['0 0 0 * *', 'day-of-month: 0 is out of range'],
    ['0 0 * 13 *', 'month: 13'],
    ['0 0 * * 8', 'day-of-week: 8'],
    ['0 0 * FOO *', 'month: "FOO" is not a number or a name (JAN-DEC)'],
    ['0 22-2 * * *', 'runs backwards'],
    ['5/15 * * * *', 'write 5-59/15'],
    ['*/0 * * * *', 'step 0'],
    ['0 0 * * */8', 'day-of-week: the step 8 must be between 1 and 7'],
    ['0 0 L * *', 'day-of-month: "L"'],
    ['0 0 * * 1#2', 'day-of-week: "1#2"'],
    ['@reboot', 'not a supported nickname'],
    ['', 'needs a cron expression'],
  ])('refuses %j with TRIGGER_CRON_INVALID (%s)', (cron, message) => {
    const problems = scheduleProblems({ cron }, 'spec.trigger.schedule');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({
      code: cron === '' ? 'TRIGGER_CRON_MISSING' : 'TRIGGER_CRON_INVALID',
      path: 'spec.trigger.schedule.cron',
    });
    expect(problems[0]?.message).toContain(message);
  });

  it.each(['Mars/Olympus_Mons', '+01:00', 'UTC+1', 'Europe/', ''])('refuses the time zone %j', (timezone) => {
    expect(scheduleProblems({ cron: '0 0 * * *', timezone })).toEqual([
      expect.objectContaining({ code: 'TRIGGER_TIMEZONE_INVALID', path: 'spec.trigger.schedule.timezone' }),
    ]);
    expect(() => toSchedulerExpression('0 0 * * *', timezone)).toThrow(
      expect.objectContaining({ code: 'TRIGGER_TIMEZONE_INVALID' }),
    );
  });

  it('accepts IANA names and their aliases', () => {
    for (const zone of [...zones, 'US/Eastern', 'Etc/GMT-14']) {
      expect(scheduleProblems({ cron: '0 0 * * *', timezone: zone })).toEqual([]);
    }
  });

  it('names each deployment schedule within EventBridge limits, distinctly', () => {
    const short = scheduleName({ cell: 'eu', env: 'prod', namespace: 'sales', name: 'daily-report' });
    expect(short).toBe('datakit.prod.eu.sales.daily-report');
    const long = scheduleName({ cell: 'eu', env: 'prod', namespace: 'a'.repeat(60), name: 'report' });
    const other = scheduleName({ cell: 'eu', env: 'prod', namespace: 'a'.repeat(61), name: 'report' });
    const odd = scheduleName({ cell: 'eu', env: 'prod', namespace: 'sales/emea', name: 'report' });
    for (const name of [long, other, odd]) expect(name).toMatch(/^[0-9A-Za-z_.-]{1,64}$/);
    expect(long).not.toBe(other);
    expect(odd).not.toBe(scheduleName({ cell: 'eu', env: 'prod', namespace: 'sales-emea', name: 'report' }));
  });
});

describe('schedule ticks (croner, with EventBridge Scheduler daylight-saving rules)', () => {
  const iso = (dates: readonly Date[]) => dates.map((date) => date.toISOString());

  it('skips a time a spring-forward removes (New York 2026-03-08 02:30)', () => {
    const ticks = nextTicks('30 2 * * *', 'America/New_York', new Date('2026-03-07T00:00:00Z'), 3);
    expect(iso(ticks)).toEqual([
      '2026-03-07T07:30:00.000Z', // 02:30 EST
      '2026-03-09T06:30:00.000Z', // 02:30 EDT; 03-08 02:30 never happened
      '2026-03-10T06:30:00.000Z',
    ]);
  });

  it('runs a time a fall-back repeats once, at its first occurrence (New York 2026-11-01 01:30)', () => {
    const ticks = nextTicks('30 1 * * *', 'America/New_York', new Date('2026-10-31T12:00:00Z'), 2);
    expect(iso(ticks)).toEqual(['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']);
    const quarter = nextTicks('*/15 1 * * *', 'America/New_York', new Date('2026-11-01T04:00:00Z'), 5);
    expect(iso(quarter)).toEqual([
      '2026-11-01T05:00:00.000Z',
      '2026-11-01T05:15:00.000Z',
      '2026-11-01T05:30:00.000Z',
      '2026-11-01T05:45:00.000Z',
      '2026-11-02T06:00:00.000Z', // not 06:00Z on 11-01, the second 01:00
    ]);
  });

  it('follows Lord Howe’s 30-minute shift both ways', () => {
    const spring = nextTicks('15 2 * * *', 'Australia/Lord_Howe', new Date('2026-10-03T00:00:00Z'), 2);
    expect(iso(spring)).toEqual(['2026-10-04T15:15:00.000Z', '2026-10-05T15:15:00.000Z']); // 10-04 02:15 skipped
    const autumn = nextTicks('45 1 * * *', 'Australia/Lord_Howe', new Date('2026-04-04T00:00:00Z'), 2);
    expect(iso(autumn)).toEqual(['2026-04-04T14:45:00.000Z', '2026-04-05T15:15:00.000Z']); // once, at +11
  });

  it('keeps Kolkata’s half-hour offset all year', () => {
    expect(iso(nextTicks('0 9 * * *', 'Asia/Kolkata', new Date('2026-03-29T00:00:00Z'), 2))).toEqual([
      '2026-03-29T03:30:00.000Z',
      '2026-03-30T03:30:00.000Z',
    ]);
  });

  it('counts from strictly after the given instant', () => {
    const at = new Date('2026-06-01T06:00:00.000Z');
    expect(nextTicks('0 6 * * *', 'UTC', at, 1)[0]?.toISOString()).toBe('2026-06-02T06:00:00.000Z');
  });

  it('ticks exactly when EventBridge Scheduler would run the converted expression, across DST changes', () => {
    fc.assert(
      fc.property(cronArbitrary, windowArbitrary, (cron, { zone, from }) => {
        const { expression, timezone } = toSchedulerExpression(cron, zone);
        expect(timezone).toBe(zone);
        // A day from a point near a transition, or the first 300 ticks of a dense schedule.
        const to = from + day;
        const expected = evaluate(parseEb(expression), zone, from, to, 300);
        const ticks = nextTicks(cron, zone, new Date(from), expected.length + 1).map((date) =>
          date.getTime(),
        );
        const end = expected.length === 300 ? (expected.at(-1) ?? to) : to;
        expect(ticks.filter((t) => t <= end)).toEqual(expected);
        if (ticks.length > expected.length) expect(ticks[expected.length]).toBeGreaterThan(end);
      }),
      { numRuns: 300 },
    );
  }, 60_000);
});

describe('the schedule of a deployed trigger', () => {
  it('belongs to schedule and composite-with-schedule policies only', () => {
    expect(scheduleOf({ policy: 'schedule', cron: '0 6 * * *', timezone: 'Europe/Berlin' })).toEqual({
      cron: '0 6 * * *',
      timezone: 'Europe/Berlin',
    });
    expect(scheduleOf({ policy: 'composite', policies: ['on-change', 'schedule'], cron: '@daily' })).toEqual({
      cron: '@daily',
    });
    expect(
      scheduleOf({ policy: 'composite', policies: ['on-change', 'manual'], cron: '@daily' }),
    ).toBeUndefined();
    expect(scheduleOf({ policy: 'on-change' })).toBeUndefined();
    expect(scheduleOf(undefined)).toBeUndefined();
  });

  it('says which policies react to input updates', () => {
    expect(triggersOnChange({ policy: 'on-change' })).toBe(true);
    expect(triggersOnChange({ policy: 'composite', policies: ['schedule', 'on-change'] })).toBe(true);
    expect(triggersOnChange({ policy: 'composite', policies: ['schedule'] })).toBe(false);
    expect(triggersOnChange({ policy: 'manual' })).toBe(false);
  });

  it('reports a schedule policy without a cron, or with a bad one, at the manifest path', () => {
    expect(triggerProblems({ policy: 'schedule' })).toEqual([
      expect.objectContaining({ code: 'TRIGGER_CRON_MISSING', path: 'spec.trigger.schedule.cron' }),
    ]);
    expect(
      triggerProblems({ policy: 'composite', policies: ['schedule'], cron: '0 0 * * *', timezone: 'CET+1' }),
    ).toEqual([
      expect.objectContaining({ code: 'TRIGGER_TIMEZONE_INVALID', path: 'spec.trigger.schedule.timezone' }),
    ]);
    expect(triggerProblems({ policy: 'on-change', cron: 'nonsense' })).toEqual([]);
  });
});
