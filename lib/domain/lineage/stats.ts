// Lineage statistics without scanning events: every RunEvent is counted once, when it is first stored,
// in the 15-minute bucket of its eventTime (per event type), and every job, dataset and source once, when
// it is first seen, in the bucket of its creation. 15 minutes divide every UTC offset in use (+05:45,
// +08:45 included), so the days of any time zone, hours, and most ranges are whole buckets; a range's edges
// inside a bucket are counted from the events themselves (docs/adr/0014).

/** Width of a statistics bucket. */
export const STATS_BUCKET_MS = 15 * 60 * 1000;

const HOUR_MS = 60 * 60 * 1000;

/** The types a RunEvent is counted under (`NONE`: no eventType). */
export type CountedEventType = 'START' | 'RUNNING' | 'COMPLETE' | 'ABORT' | 'FAIL' | 'OTHER' | 'NONE';

/** The start of the bucket holding an instant, as the UTC ISO string buckets are keyed by. */
export function statsBucket(instant: string | number): string {
  const ms = typeof instant === 'number' ? instant : Date.parse(instant);
  return new Date(Math.floor(ms / STATS_BUCKET_MS) * STATS_BUCKET_MS).toISOString();
}

/** Counts in a range of eventTimes `[from, to]` (milliseconds, inclusive), as the store answers them. */
export interface EventCounter {
  /** RunEvents counted in the buckets starting in `[fromBucket, toBucket]`. */
  buckets(fromBucket: string, toBucket: string): Promise<number>;
  /** RunEvents stored with an eventTime in `[from, to]` (a part of one bucket: a few minutes of events). */
  events(from: string, to: string): Promise<number>;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * RunEvents with an eventTime in `[after, before]` (inclusive): whole buckets from their counters; for a
 * bucket the range cuts, the shorter side counted from the events themselves — the events inside it, or
 * the bucket's count minus those outside. So a range costs one query of counters plus at most two
 * queries of at most 7.5 minutes of events each, whatever its length.
 */
export async function countEventsInRange(
  after: string,
  before: string,
  counter: EventCounter,
): Promise<number> {
  const a = Date.parse(after);
  const b = Date.parse(before);
  if (!(a <= b)) return 0;
  const floor = (ms: number) => Math.floor(ms / STATS_BUCKET_MS) * STATS_BUCKET_MS;
  const fullFrom = a % STATS_BUCKET_MS === 0 ? a : floor(a) + STATS_BUCKET_MS;
  const fullTo = floor(b + 1) - STATS_BUCKET_MS;
  let total = fullFrom <= fullTo ? await counter.buckets(iso(fullFrom), iso(fullTo)) : 0;

  // The buckets the range cuts, with the part of each inside the range.
  const cut: { start: number; inside: [number, number] }[] = [];
  if (floor(a) === floor(b) && !(a % STATS_BUCKET_MS === 0 && (b + 1) % STATS_BUCKET_MS === 0)) {
    cut.push({ start: floor(a), inside: [a, b] });
  } else {
    if (a % STATS_BUCKET_MS !== 0) cut.push({ start: floor(a), inside: [a, floor(a) + STATS_BUCKET_MS - 1] });
    if ((b + 1) % STATS_BUCKET_MS !== 0) cut.push({ start: floor(b), inside: [floor(b), b] });
  }
  for (const { start, inside } of cut) {
    const [from, to] = inside;
    if (to - from + 1 <= STATS_BUCKET_MS / 2) {
      total += await counter.events(iso(from), iso(to));
      continue;
    }
    const end = start + STATS_BUCKET_MS - 1;
    let outside = 0;
    if (from > start) outside += await counter.events(iso(start), iso(from - 1));
    if (to < end) outside += await counter.events(iso(to + 1), iso(end));
    total += (await counter.buckets(iso(start), iso(start))) - outside;
  }
  return total;
}

/** Marquez's `period` of the statistics endpoints. */
export type StatsPeriod = 'DAY' | 'WEEK';

/** One interval of a statistics answer, `[start, end)`. */
export interface StatsInterval {
  start: string;
  end: string;
}

/** The local date (year, month, day) of an instant in a time zone. */
function localDate(ms: number, timeZone: string): { year: number; month: number; day: number } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
  }).formatToParts(new Date(ms));
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return { year: part('year'), month: part('month'), day: part('day') };
}

/** Milliseconds the zone is ahead of UTC at an instant. */
function zoneOffset(ms: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(ms));
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(
    part('year'),
    part('month') - 1,
    part('day'),
    part('hour'),
    part('minute'),
    part('second'),
  );
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** The instant a local date starts in a time zone (its midnight; DST changes happen at other hours). */
function startOfLocalDay(date: { year: number; month: number; day: number }, timeZone: string): number {
  const guess = Date.UTC(date.year, date.month - 1, date.day);
  let start = guess - zoneOffset(guess, timeZone);
  // Once more with the offset at the instant found: the guess may sit on the other side of a DST change.
  start = guess - zoneOffset(start, timeZone);
  return start;
}

/**
 * The intervals of Marquez's statistics: `DAY` is the last 24 hours, hour by hour, the current hour last;
 * `WEEK` the last 7 days of the time zone, day by day, today last.
 */
export function statsIntervals(now: Date, period: StatsPeriod, timeZone: string): StatsInterval[] {
  const ms = now.getTime();
  if (period === 'DAY') {
    const last = Math.floor(ms / HOUR_MS) * HOUR_MS;
    return Array.from({ length: 24 }, (_, index) => {
      const start = last - (23 - index) * HOUR_MS;
      return { start: iso(start), end: iso(start + HOUR_MS) };
    });
  }
  const today = localDate(ms, timeZone);
  return Array.from({ length: 7 }, (_, index) => {
    const offset = index - 6;
    const day = new Date(Date.UTC(today.year, today.month - 1, today.day + offset));
    const next = new Date(Date.UTC(today.year, today.month - 1, today.day + offset + 1));
    const start = startOfLocalDay(
      { year: day.getUTCFullYear(), month: day.getUTCMonth() + 1, day: day.getUTCDate() },
      timeZone,
    );
    const end = startOfLocalDay(
      { year: next.getUTCFullYear(), month: next.getUTCMonth() + 1, day: next.getUTCDate() },
      timeZone,
    );
    return { start: iso(start), end: iso(end) };
  });
}

/** Marquez `LineageMetric`: RunEvents of an interval by type. */
export interface LineageMetric {
  startInterval: string;
  endInterval: string;
  fail: number;
  start: number;
  complete: number;
  abort: number;
}

/** Marquez `IntervalMetric`: how many jobs, datasets or sources existed at the end of an interval. */
export interface IntervalMetric {
  startInterval: string;
  endInterval: string;
  count: number;
}

/** A statistics bucket as stored: its start and its counters. */
export interface StatsBucket {
  bucket: string;
  counts: Readonly<Record<string, number>>;
}

function inInterval(bucket: string, interval: StatsInterval): boolean {
  return bucket >= interval.start && bucket < interval.end;
}

/** RunEvents by type for each interval, from the event buckets covering them. */
export function lineageMetrics(
  intervals: readonly StatsInterval[],
  buckets: readonly StatsBucket[],
): LineageMetric[] {
  return intervals.map((interval) => {
    const metric: LineageMetric = {
      startInterval: interval.start,
      endInterval: interval.end,
      fail: 0,
      start: 0,
      complete: 0,
      abort: 0,
    };
    for (const { bucket, counts } of buckets) {
      if (!inInterval(bucket, interval)) continue;
      metric.fail += counts.FAIL ?? 0;
      metric.start += counts.START ?? 0;
      metric.complete += counts.COMPLETE ?? 0;
      metric.abort += counts.ABORT ?? 0;
    }
    return metric;
  });
}

/**
 * How many existed at the end of each interval: all there are, minus those created at or after its end
 * (`created`: the creation buckets from the first interval's start on, future ones included).
 */
export function intervalMetrics(
  intervals: readonly StatsInterval[],
  created: readonly StatsBucket[],
  total: number,
): IntervalMetric[] {
  return intervals.map((interval) => {
    const later = created
      .filter(({ bucket }) => bucket >= interval.end)
      .reduce((sum, { counts }) => sum + (counts.count ?? 0), 0);
    return { startInterval: interval.start, endInterval: interval.end, count: Math.max(0, total - later) };
  });
}
