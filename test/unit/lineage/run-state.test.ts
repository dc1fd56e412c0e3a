import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EventType } from '../../../lib/contracts/openlineage/events.js';
import type { RunState } from '../../../lib/domain/lineage/model.js';
import { applyRunEvent, type RunEventInput, runDurationMs } from '../../../lib/domain/lineage/run-state.js';

const at = (minute: number) => new Date(Date.UTC(2024, 4, 1, 10, minute)).toISOString();

function fold(events: RunEventInput[]): RunState | undefined {
  return events.reduce<RunState | undefined>((state, event) => applyRunEvent(state, event), undefined);
}

describe('applyRunEvent', () => {
  it('keeps run facets whose names are Object.prototype members, later ones replacing earlier ones', () => {
    // Facet names are the producer's: parsed from JSON, where `__proto__` is an ordinary key.
    const first = JSON.parse('{"constructor":{"v":1},"toString":{"v":1},"__proto__":{"v":1}}');
    const second = JSON.parse('{"constructor":{"v":2},"__proto__":{"v":2}}');

    const run = fold([
      { eventType: 'START', eventTime: at(0), facets: first },
      { eventType: 'RUNNING', eventTime: at(1), facets: second },
    ]);

    expect(JSON.parse(JSON.stringify(run?.facets))).toEqual(
      JSON.parse('{"constructor":{"v":2},"toString":{"v":1},"__proto__":{"v":2}}'),
    );
    expect(Object.getPrototypeOf(run?.facets)).toBe(Object.prototype);
  });

  it('makes a new run RUNNING on START and COMPLETED on COMPLETE', () => {
    const started = fold([{ eventType: 'START', eventTime: at(0) }]);
    const completed = fold([
      { eventType: 'START', eventTime: at(0) },
      { eventType: 'RUNNING', eventTime: at(5) },
      { eventType: 'COMPLETE', eventTime: at(9) },
    ]);

    expect(started).toMatchObject({ state: 'RUNNING', startedAt: at(0) });
    expect(completed).toMatchObject({ state: 'COMPLETED', startedAt: at(0), endedAt: at(9) });
  });

  it.each([
    ['FAIL', 'FAILED'],
    ['ABORT', 'ABORTED'],
  ] as const)('ends a run on %s as %s', (eventType, state) => {
    const run = fold([
      { eventType: 'START', eventTime: at(0) },
      { eventType, eventTime: at(3) },
    ]);

    expect(run).toMatchObject({ state, endedAt: at(3) });
  });

  it('still completes a run whose COMPLETE arrives before its START, taking startedAt from the late START', () => {
    const run = fold([
      { eventType: 'COMPLETE', eventTime: at(9) },
      { eventType: 'START', eventTime: at(0) },
    ]);

    expect(run).toMatchObject({ state: 'COMPLETED', startedAt: at(0), endedAt: at(9), createdAt: at(0) });
    expect(run && runDurationMs(run)).toBe(9 * 60_000);
  });

  it('never lets a late RUNNING reopen a finished run', () => {
    const run = fold([
      { eventType: 'START', eventTime: at(0) },
      { eventType: 'FAIL', eventTime: at(4) },
      { eventType: 'RUNNING', eventTime: at(2) },
    ]);

    expect(run?.state).toBe('FAILED');
  });

  it('takes startedAt from the earliest of duplicated START events', () => {
    const run = fold([
      { eventType: 'START', eventTime: at(3) },
      { eventType: 'START', eventTime: at(1) },
      { eventType: 'START', eventTime: at(2) },
    ]);

    expect(run?.startedAt).toBe(at(1));
  });

  it('leaves the state alone on OTHER or a missing eventType, merging their facets', () => {
    const run = fold([
      { eventType: 'START', eventTime: at(0), facets: { a: { v: 1 } } },
      { eventType: 'OTHER', eventTime: at(1), facets: { b: { v: 2 } } },
      { eventTime: at(2), facets: { c: { v: 3 } } },
    ]);

    expect(run).toMatchObject({ state: 'RUNNING', facets: { a: { v: 1 }, b: { v: 2 }, c: { v: 3 } } });
    expect(fold([{ eventType: 'OTHER', eventTime: at(0) }])?.state).toBe('NEW');
  });

  it('keeps the facet from the most recent event even when an older one arrives later', () => {
    const run = fold([
      { eventType: 'COMPLETE', eventTime: at(9), facets: { processing_engine: { version: '2' } } },
      { eventType: 'START', eventTime: at(0), facets: { processing_engine: { version: '1' } } },
    ]);

    expect(run?.facets.processing_engine).toEqual({ version: '2' });
  });

  it('lets the later-dated of two terminal events decide, and FAIL win a tie', () => {
    const superseded = fold([
      { eventType: 'FAIL', eventTime: at(8) },
      { eventType: 'COMPLETE', eventTime: at(5) },
    ]);
    const tie = fold([
      { eventType: 'FAIL', eventTime: at(5) },
      { eventType: 'COMPLETE', eventTime: at(5) },
    ]);

    expect(superseded).toMatchObject({ state: 'FAILED', endedAt: at(8) });
    expect(tie).toMatchObject({ state: 'FAILED', endedAt: at(5) });
  });

  it('does not modify the state it is given', () => {
    const before = fold([{ eventType: 'START', eventTime: at(0), facets: { a: 1 } }]);
    const snapshot = structuredClone(before);

    applyRunEvent(before, { eventType: 'COMPLETE', eventTime: at(1), facets: { a: 2 } });

    expect(before).toEqual(snapshot);
  });

  it('reaches the same state whatever order the events arrive in', () => {
    const eventArb = fc.record({
      eventType: fc.option(
        fc.constantFrom<EventType>('START', 'RUNNING', 'COMPLETE', 'ABORT', 'FAIL', 'OTHER'),
        {
          nil: undefined,
        },
      ),
      eventTime: fc.integer({ min: 0, max: 59 }).map(at),
    });
    fc.assert(
      fc.property(
        fc
          .array(eventArb, { minLength: 1, maxLength: 8 })
          .chain((events) =>
            fc.tuple(fc.constant(events), fc.shuffledSubarray(events, { minLength: events.length })),
          ),
        ([events, shuffled]) => {
          const strip = (state: RunState | undefined) => ({ ...state, facets: {}, facetTimes: {} });
          const inputs = (list: typeof events) =>
            list.map(
              ({ eventType, eventTime }): RunEventInput =>
                eventType === undefined ? { eventTime } : { eventType, eventTime },
            );

          expect(strip(fold(inputs(shuffled)))).toEqual(strip(fold(inputs(events))));
        },
      ),
      { numRuns: 300 },
    );
  });
});
