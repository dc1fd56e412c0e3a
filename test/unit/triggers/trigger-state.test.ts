import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RunStatus } from '../../../lib/contracts/api/runs.js';
import {
  defaultTriggerLimits,
  emptySlot,
  type SlotId,
  type TriggerLimits,
  type TriggerSlot,
  type UpstreamRun,
} from '../../../lib/domain/triggers/model.js';
import {
  type TriggerAction,
  type TriggerEvent,
  transitionSlot,
  triggerRunId,
} from '../../../lib/domain/triggers/trigger-state.js';

const consumer: SlotId = { cell: 'eu', env: 'dev', namespace: 'sales', name: 'report' };
const limits: TriggerLimits = { ...defaultTriggerLimits, maxConsecutiveFailures: 3, maxChainLength: 4 };
const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString();
const up = (runId: string, dataset = 'orders'): UpstreamRun => ({
  dataset: { namespace: 'sales', name: dataset },
  runId,
});
const update = (u: UpstreamRun, chain: string[] = ['sales/ingest'], handled = false): TriggerEvent => ({
  type: 'update',
  upstream: u,
  chain,
  handled,
  at: at(1),
});
const ended = (runId: string, status: RunStatus, minute = 2): TriggerEvent => ({
  type: 'run-ended',
  runId,
  status,
  at: at(minute),
});
const step = (slot: TriggerSlot, event: TriggerEvent) => transitionSlot(consumer, slot, event, limits);
const starts = (actions: readonly TriggerAction[]) =>
  actions.flatMap((action) => (action.type === 'start-run' ? [action] : []));

/** A slot with run r1 (covering u1) in flight. */
function inFlight(): TriggerSlot {
  return step(emptySlot, update(up('u1'))).slot;
}

/** A slot paused by three failed runs in a row. */
function paused(): TriggerSlot {
  let slot: TriggerSlot = emptySlot;
  for (const runId of ['u1', 'u2', 'u3']) {
    slot = step(slot, update(up(runId))).slot;
    slot = step(slot, ended(slot.inFlight?.runId ?? '', 'FAILED', 10)).slot;
  }
  return slot;
}

describe('the trigger slot', () => {
  it('starts one run for the first update, with a run id derived from the consumer and the upstream run', () => {
    const transition = step(emptySlot, update(up('u1')));
    expect(transition.outcome).toBe('started');
    expect(transition.changed).toBe(true);
    expect(transition.slot.inFlight?.runId).toBe(triggerRunId(consumer, ['u1']));
    expect(starts(transition.actions)).toEqual([
      {
        type: 'start-run',
        runId: triggerRunId(consumer, ['u1']),
        trigger: {
          type: 'on-change',
          upstream: [up('u1')],
          coalesced: 1,
          chain: ['sales/ingest', 'sales/report'],
        },
      },
    ]);
  });

  it('treats a repeated delivery, or another output of the same upstream run, as the run it already started', () => {
    const slot = inFlight();
    for (const event of [update(up('u1')), update(up('u1', 'customers'))]) {
      const transition = step(slot, event);
      expect(transition).toMatchObject({ changed: false, outcome: 'duplicate', slot });
      // Starting again is idempotent (same run id) and heals a taker that died before starting.
      expect(starts(transition.actions).map((action) => action.runId)).toEqual([slot.inFlight?.runId]);
    }
  });

  it('does nothing for an upstream run whose handled key exists', () => {
    expect(step(emptySlot, update(up('u1'), ['sales/ingest'], true))).toMatchObject({
      changed: false,
      outcome: 'duplicate',
      actions: [],
      markHandled: [],
    });
  });

  it('collapses updates that arrive while a run is in flight into one follow-up that lists them all', () => {
    let slot = inFlight();
    const first = step(slot, update(up('u2'), ['a/x']));
    expect(first).toMatchObject({ outcome: 'coalesced', changed: true, actions: [] });
    slot = first.slot;
    slot = step(slot, update(up('u3'), ['b/y'])).slot;
    expect(step(slot, update(up('u2'))).outcome).toBe('duplicate');
    const end = step(slot, ended(triggerRunId(consumer, ['u1']), 'SUCCEEDED'));
    expect(end.markHandled).toEqual([up('u1')]);
    expect(end.slot.pending).toBeUndefined();
    expect(end.slot.inFlight?.runId).toBe(triggerRunId(consumer, ['u3', 'u2']));
    expect(starts(end.actions)).toEqual([
      {
        type: 'start-run',
        runId: triggerRunId(consumer, ['u2', 'u3']),
        trigger: {
          type: 'on-change',
          upstream: [up('u2'), up('u3')],
          coalesced: 2,
          chain: ['a/x', 'b/y', 'sales/report'],
        },
      },
    ]);
  });

  it('frees the slot when the in-flight run ends with nothing pending, and forgets only after marking', () => {
    const end = step(inFlight(), ended(triggerRunId(consumer, ['u1']), 'SUCCEEDED'));
    expect(end.slot.inFlight).toBeUndefined();
    expect(end.markHandled).toEqual([up('u1')]);
    expect(end.actions).toEqual([]);
  });

  it('counts updates beyond the listed limit and marks them handled before the slot counts them', () => {
    const small = { ...limits, maxListedUpstream: 1 };
    let slot = transitionSlot(consumer, emptySlot, update(up('u1')), small).slot;
    slot = transitionSlot(consumer, slot, update(up('u2')), small).slot;
    const overflow = transitionSlot(consumer, slot, update(up('u3')), small);
    expect(overflow).toMatchObject({ outcome: 'coalesced', changed: true, markHandled: [up('u3')] });
    expect(overflow.slot.pending).toMatchObject({ upstream: [up('u2')], overflow: 1 });
    const end = transitionSlot(
      consumer,
      overflow.slot,
      ended(triggerRunId(consumer, ['u1']), 'SUCCEEDED'),
      small,
    );
    expect(starts(end.actions)[0]?.trigger).toMatchObject({ upstream: [up('u2')], coalesced: 2 });
  });

  it('cuts a chain that revisits the consumer and audits it', () => {
    const transition = step(emptySlot, update(up('u1'), ['sales/ingest', 'sales/report', 'sales/clean']));
    expect(transition).toMatchObject({ changed: false, outcome: 'cycle-cut', markHandled: [up('u1')] });
    expect(transition.actions).toEqual([
      {
        type: 'audit',
        action: 'trigger.cycle-cut',
        details: expect.objectContaining({ reason: 'revisits-consumer' }),
      },
    ]);
  });

  it('cuts a chain that reached the length limit, and lets a shorter one through', () => {
    const long = step(emptySlot, update(up('u1'), ['a/1', 'a/2', 'a/3', 'a/4']));
    expect(long.outcome).toBe('cycle-cut');
    expect(long.actions[0]).toMatchObject({ details: { reason: 'too-long', maxChainLength: 4 } });
    expect(step(emptySlot, update(up('u1'), ['a/1', 'a/2', 'a/3'])).outcome).toBe('started');
  });

  it('pauses after N failures in a row, publishes it once, and ignores cancellations in the streak', () => {
    let slot: TriggerSlot = emptySlot;
    const outcomes: RunStatus[] = ['FAILED', 'CANCELLED', 'TIMED_OUT'];
    for (const [index, status] of outcomes.entries()) {
      slot = step(slot, update(up(`u${index}`))).slot;
      const end = step(slot, ended(slot.inFlight?.runId ?? '', status));
      expect(end.actions.some((action) => action.type === 'publish')).toBe(false);
      slot = end.slot;
    }
    expect(slot).toMatchObject({ consecutiveFailures: 2, paused: false });
    slot = step(slot, update(up('u9'))).slot;
    const failing = slot.inFlight?.runId ?? '';
    const pause = step(slot, ended(failing, 'FAILED', 7));
    expect(pause.slot).toMatchObject({
      paused: true,
      consecutiveFailures: 3,
      pausedAt: at(7),
      pausedBy: failing,
    });
    expect(pause.actions).toEqual([
      { type: 'publish', detailType: 'Consumer Paused', runId: failing },
      {
        type: 'audit',
        action: 'trigger.consumer-paused',
        details: expect.objectContaining({ consecutiveFailures: 3 }),
      },
    ]);
  });

  it('resets the failure streak on a success', () => {
    let slot = inFlight();
    slot = step(slot, ended(slot.inFlight?.runId ?? '', 'FAILED')).slot;
    slot = step(slot, update(up('u2'))).slot;
    slot = step(slot, ended(slot.inFlight?.runId ?? '', 'SUCCEEDED')).slot;
    expect(slot.consecutiveFailures).toBe(0);
  });

  it('drops the pending follow-up when the run that pauses the consumer ends, marking and auditing it', () => {
    let slot: TriggerSlot = emptySlot;
    for (const runId of ['u1', 'u2']) {
      slot = step(slot, update(up(runId))).slot;
      slot = step(slot, ended(slot.inFlight?.runId ?? '', 'FAILED')).slot;
    }
    slot = step(slot, update(up('u3'))).slot;
    slot = step(slot, update(up('u4'))).slot;
    const pause = step(slot, ended(slot.inFlight?.runId ?? '', 'FAILED'));
    expect(pause.slot.inFlight).toBeUndefined();
    expect(pause.slot.pending).toBeUndefined();
    expect(pause.markHandled).toEqual([up('u3'), up('u4')]);
    expect(starts(pause.actions)).toEqual([]);
    expect(pause.actions).toContainEqual({
      type: 'audit',
      action: 'trigger.paused-skip',
      details: expect.objectContaining({ upstream: [up('u4')] }),
    });
  });

  it('skips updates while paused, audits and marks them', () => {
    const transition = step(paused(), update(up('u7')));
    expect(transition).toMatchObject({ changed: false, outcome: 'paused-skip', markHandled: [up('u7')] });
    expect(transition.actions[0]).toMatchObject({ type: 'audit', action: 'trigger.paused-skip' });
  });

  it('resumes after a manual run succeeds, and publishes it again on a repeated delivery', () => {
    const resume = step(paused(), { type: 'manual-succeeded', runId: 'm1', at: at(30) });
    expect(resume.slot).toMatchObject({ paused: false, consecutiveFailures: 0, resumedBy: 'm1' });
    expect(resume.slot.pausedAt).toBeUndefined();
    expect(resume.actions[0]).toEqual({ type: 'publish', detailType: 'Consumer Resumed', runId: 'm1' });
    const again = step(resume.slot, { type: 'manual-succeeded', runId: 'm1', at: at(30) });
    expect(again).toMatchObject({ changed: false, actions: [resume.actions[0]] });
    expect(step(resume.slot, update(up('u8'))).outcome).toBe('started');
  });

  it('does not resume for a manual success that ended before the pause', () => {
    const slot = paused();
    expect(step(slot, { type: 'manual-succeeded', runId: 'm0', at: at(5) })).toMatchObject({
      changed: false,
      slot: { paused: true },
    });
  });

  it('repeats the effects of a repeated run end without changing anything', () => {
    let slot = inFlight();
    slot = step(slot, update(up('u2'))).slot;
    const first = step(slot, ended(triggerRunId(consumer, ['u1']), 'SUCCEEDED'));
    const repeat = step(first.slot, ended(triggerRunId(consumer, ['u1']), 'SUCCEEDED'));
    expect(repeat).toMatchObject({ changed: false, outcome: 'ended', markHandled: [] });
    expect(starts(repeat.actions)).toEqual(starts(first.actions));
  });

  it('ignores the end of a run it does not wait for', () => {
    const slot = inFlight();
    expect(step(slot, ended('some-manual-run', 'FAILED'))).toMatchObject({
      changed: false,
      outcome: 'not-in-flight',
      actions: [],
    });
  });

  it('derives run ids from the set of upstream runs and the consumer only', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.uuid(), { minLength: 1, maxLength: 6 }), (ids) => {
        expect(triggerRunId(consumer, ids)).toBe(triggerRunId(consumer, [...ids].reverse()));
        expect(triggerRunId(consumer, ids)).toMatch(
          /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
        );
        expect(triggerRunId({ ...consumer, env: 'prod' }, ids)).not.toBe(triggerRunId(consumer, ids));
        if (ids.length > 1)
          expect(triggerRunId(consumer, ids.slice(1))).not.toBe(triggerRunId(consumer, ids));
      }),
    );
  });
});

describe('the trigger slot over random event sequences', () => {
  const upstreamPool = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6'];
  const chains = [[], ['x/a'], ['sales/report'], ['a/1', 'a/2', 'a/3', 'a/4'], ['y/b']];
  const eventArbitrary = fc.oneof(
    fc.record({
      kind: fc.constant('update' as const),
      runId: fc.constantFrom(...upstreamPool),
      dataset: fc.constantFrom('orders', 'customers'),
      chain: fc.nat(chains.length - 1),
    }),
    fc.record({
      kind: fc.constant('end' as const),
      status: fc.constantFrom<RunStatus>('SUCCEEDED', 'FAILED', 'TIMED_OUT', 'CANCELLED'),
      current: fc.boolean(),
    }),
    fc.record({ kind: fc.constant('manual' as const) }),
  );

  it('never forgets an upstream run before its key exists, never lists one twice, pauses as a streak counter says', () => {
    fc.assert(
      fc.property(fc.array(eventArbitrary, { maxLength: 60 }), (script) => {
        let slot: TriggerSlot = emptySlot;
        const keys = new Set<string>();
        const listedBy = new Map<string, string>();
        const runs = new Map<string, readonly string[]>();
        let lastRun: string | undefined;
        // The reference streak: failures since the last success or resume, cancellations ignored.
        let streak = 0;
        let refPaused = false;
        for (const [index, item] of script.entries()) {
          const minute = index + 1;
          let event: TriggerEvent;
          if (item.kind === 'update') {
            const runId = item.runId;
            const taken =
              slot.inFlight?.upstream.some((u) => u.runId === runId) === true ||
              slot.pending?.upstream.some((u) => u.runId === runId) === true;
            event = {
              type: 'update',
              upstream: up(runId, item.dataset),
              chain: chains[item.chain] ?? [],
              handled: !taken && keys.has(runId),
              at: at(minute),
            };
          } else if (item.kind === 'end') {
            const runId = item.current ? (slot.inFlight?.runId ?? lastRun ?? 'none') : (lastRun ?? 'none');
            event = { type: 'run-ended', runId, status: item.status, at: at(minute) };
            if (slot.inFlight?.runId === runId) {
              if (item.status === 'SUCCEEDED') streak = 0;
              else if (item.status !== 'CANCELLED') streak++;
              if (streak >= limits.maxConsecutiveFailures) refPaused = true;
            }
          } else {
            event = { type: 'manual-succeeded', runId: `m${index}`, at: at(minute) };
            streak = 0;
            refPaused = false;
          }
          const before = members(slot);
          const transition = step(slot, event);
          for (const u of transition.markHandled) keys.add(u.runId);
          for (const runId of before) {
            if (!members(transition.slot).has(runId)) expect(keys.has(runId)).toBe(true);
          }
          for (const start of starts(transition.actions)) {
            const upstream = (start.trigger.upstream ?? []).map((u) => u.runId);
            if (runs.has(start.runId)) {
              expect(runs.get(start.runId)).toEqual(upstream);
              continue;
            }
            runs.set(start.runId, upstream);
            for (const u of upstream) {
              expect(listedBy.get(u)).toBeUndefined();
              listedBy.set(u, start.runId);
            }
            expect(start.trigger.chain?.at(-1)).toBe('sales/report');
          }
          slot = transition.slot;
          lastRun = slot.inFlight?.runId ?? lastRun;
          expect(slot.paused).toBe(refPaused);
          expect(slot.paused && slot.inFlight !== undefined && transition.outcome === 'started').toBe(false);
        }
      }),
    );
  });
});

function members(slot: TriggerSlot): Set<string> {
  return new Set([...(slot.inFlight?.upstream ?? []), ...(slot.pending?.upstream ?? [])].map((u) => u.runId));
}
