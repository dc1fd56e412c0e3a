import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  countEventsInRange,
  intervalMetrics,
  lineageMetrics,
  STATS_BUCKET_MS,
  statsBucket,
  statsIntervals,
} from '../../../lib/domain/lineage/stats.js';

const iso = (ms: number) => new Date(ms).toISOString();
const T0 = Date.parse('2024-05-01T00:00:00.000Z');

/** A counter over a list of event times, counting the way the store does, recording what it was asked. */
function counterOver(times: readonly number[]) {
  const asked: [number, number][] = [];
  return {
    asked,
    buckets: async (from: string, to: string) =>
      times.filter((t) => {
        const bucket = statsBucket(t);
        return bucket >= from && bucket <= to;
      }).length,
    events: async (from: string, to: string) => {
      asked.push([Date.parse(from), Date.parse(to)]);
      return times.filter((t) => t >= Date.parse(from) && t <= Date.parse(to)).length;
    },
  };
}

describe('statsBucket', () => {
  it.each([
    ['2024-05-01T10:00:00.000Z', '2024-05-01T10:00:00.000Z'],
    ['2024-05-01T10:14:59.999Z', '2024-05-01T10:00:00.000Z'],
    ['2024-05-01T10:15:00.000Z', '2024-05-01T10:15:00.000Z'],
    ['2024-05-01T23:59:59.999Z', '2024-05-01T23:45:00.000Z'],
  ])('puts %s in the bucket starting %s', (time, bucket) => {
    expect(statsBucket(time)).toBe(bucket);
  });
});

describe('countEventsInRange', () => {
  it('counts exactly the events of any range, from bucket counters and the cut buckets’ events', async () => {
    const window = 2 * 24 * 60 * 60 * 1000;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: window }), { maxLength: 200 }),
        fc.integer({ min: 0, max: window }),
        fc.integer({ min: 0, max: window }),
        async (offsets, a, b) => {
          const times = offsets.map((offset) => T0 + offset);
          const [after, before] = [T0 + Math.min(a, b), T0 + Math.max(a, b)];
          const counter = counterOver(times);

          const counted = await countEventsInRange(iso(after), iso(before), counter);

          expect(counted).toBe(times.filter((t) => t >= after && t <= before).length);
          // Events are only ever read for at most half a bucket at a time, and at most twice per edge.
          for (const [from, to] of counter.asked)
            expect(to - from + 1).toBeLessThanOrEqual(STATS_BUCKET_MS / 2);
          expect(counter.asked.length).toBeLessThanOrEqual(4);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reads no events at all for a range of whole buckets (a UTC day)', async () => {
    const counter = counterOver([T0 + 1000, T0 + 60 * 60 * 1000]);

    const counted = await countEventsInRange(iso(T0), '2024-05-01T23:59:59.999Z', counter);

    expect(counted).toBe(2);
    expect(counter.asked).toEqual([]);
  });

  it('counts nothing when after is later than before', async () => {
    expect(await countEventsInRange(iso(T0 + 1), iso(T0), counterOver([T0]))).toBe(0);
  });
});

describe('statsIntervals', () => {
  it('DAY: the last 24 hours, hour by hour, the current hour last', () => {
    const intervals = statsIntervals(new Date('2024-05-01T10:20:00Z'), 'DAY', 'UTC');

    expect(intervals).toHaveLength(24);
    expect(intervals[0]).toEqual({ start: '2024-04-30T11:00:00.000Z', end: '2024-04-30T12:00:00.000Z' });
    expect(intervals[23]).toEqual({ start: '2024-05-01T10:00:00.000Z', end: '2024-05-01T11:00:00.000Z' });
  });

  it('WEEK: the last 7 days of the time zone, today last (Asia/Kolkata, +05:30)', () => {
    const intervals = statsIntervals(new Date('2024-05-01T20:00:00Z'), 'WEEK', 'Asia/Kolkata');

    expect(intervals).toHaveLength(7);
    // 20:00Z is 01:30 on May 2nd in Kolkata: today there started at 18:30Z on May 1st.
    expect(intervals[6]).toEqual({ start: '2024-05-01T18:30:00.000Z', end: '2024-05-02T18:30:00.000Z' });
    expect(intervals[0]?.start).toBe('2024-04-25T18:30:00.000Z');
  });

  it('WEEK: a day of a DST change lasts 23 hours (Europe/Berlin, 2024-03-31)', () => {
    const intervals = statsIntervals(new Date('2024-04-02T12:00:00Z'), 'WEEK', 'Europe/Berlin');

    const change = intervals.find((interval) => interval.start === '2024-03-30T23:00:00.000Z');
    expect(change).toEqual({ start: '2024-03-30T23:00:00.000Z', end: '2024-03-31T22:00:00.000Z' });
    expect(intervals[6]).toEqual({ start: '2024-04-01T22:00:00.000Z', end: '2024-04-02T22:00:00.000Z' });
  });
});

describe('lineageMetrics and intervalMetrics', () => {
  const intervals = [
    { start: '2024-05-01T10:00:00.000Z', end: '2024-05-01T11:00:00.000Z' },
    { start: '2024-05-01T11:00:00.000Z', end: '2024-05-01T12:00:00.000Z' },
  ];

  it('sums the event buckets of each interval by type', () => {
    const metrics = lineageMetrics(intervals, [
      { bucket: '2024-05-01T10:00:00.000Z', counts: { START: 2, COMPLETE: 1, total: 3 } },
      { bucket: '2024-05-01T10:45:00.000Z', counts: { FAIL: 1, total: 1 } },
      { bucket: '2024-05-01T11:15:00.000Z', counts: { ABORT: 1, RUNNING: 4, total: 5 } },
    ]);

    expect(metrics).toEqual([
      {
        startInterval: intervals[0]?.start,
        endInterval: intervals[0]?.end,
        start: 2,
        complete: 1,
        fail: 1,
        abort: 0,
      },
      {
        startInterval: intervals[1]?.start,
        endInterval: intervals[1]?.end,
        start: 0,
        complete: 0,
        fail: 0,
        abort: 1,
      },
    ]);
  });

  it('counts what existed at the end of each interval: all, minus those created at or after it', () => {
    const metrics = intervalMetrics(
      intervals,
      [
        { bucket: '2024-05-01T10:30:00.000Z', counts: { count: 2 } },
        { bucket: '2024-05-01T11:00:00.000Z', counts: { count: 3 } },
        { bucket: '2024-05-02T00:00:00.000Z', counts: { count: 1 } },
      ],
      10,
    );

    expect(metrics.map((metric) => metric.count)).toEqual([6, 9]);
  });
});
