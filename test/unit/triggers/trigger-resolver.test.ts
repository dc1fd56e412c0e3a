import { describe, expect, it } from 'vitest';
import type { RunStatus } from '../../../lib/contracts/api/runs.js';
import type { DatasetUpdatedDetail } from '../../../lib/contracts/events/lineage.js';
import { consumerTriggerDetailSchema } from '../../../lib/contracts/events/triggers.js';
import { DataKitError } from '../../../lib/domain/errors.js';
import type { SlotId } from '../../../lib/domain/triggers/model.js';
import { makeTriggerResolver } from '../../../lib/domain/triggers/resolver.js';
import { scheduledRunId } from '../../../lib/domain/triggers/schedule.js';
import { triggerRunId } from '../../../lib/domain/triggers/trigger-state.js';
import type { DomainEvent } from '../../../lib/ports/event-publisher.js';
import type { TriggerAuditEntry } from '../../../lib/ports/trigger-audit.js';
import type { TriggeredRunRequest, TriggeredRunStart } from '../../../lib/ports/trigger-runs.js';
import { MemoryTriggerStore } from '../../support/trigger-model.js';

const report: SlotId = { cell: 'eu', env: 'dev', namespace: 'sales', name: 'report' };
const clock = () => new Date('2026-05-01T10:00:00.000Z');

function updated(runId: string, overrides: Partial<DatasetUpdatedDetail> = {}): DatasetUpdatedDetail {
  return {
    dataset: { namespace: 'postgres://db:5432', name: 'public.orders' },
    version: `${runId}-orders`,
    runId,
    job: { namespace: 'sales', name: 'ingest' },
    eventTime: '2026-05-01T09:00:00.000Z',
    producer: '',
    cell: 'eu',
    datakit: { namespace: 'sales', name: 'orders' },
    producerRunId: runId,
    chain: [],
    ...overrides,
  };
}

/** The resolver with an in-memory store and recording ports; `answer` decides what a start returns. */
function fixture(
  answer: (request: TriggeredRunRequest) => TriggeredRunStart = () => ({
    started: true,
    status: 'PENDING',
  }),
) {
  const starts: TriggeredRunRequest[] = [];
  const audits = new Map<string, TriggerAuditEntry>();
  const events: DomainEvent[] = [];
  const store = new MemoryTriggerStore(clock);
  const resolver = makeTriggerResolver({
    store,
    runs: {
      start: async (request) => {
        starts.push(request);
        return answer(request);
      },
    },
    subscriptions: {
      consumersOf: async (cell, dataset) =>
        cell === 'eu' && dataset.name === 'orders'
          ? [{ namespace: 'sales', name: 'report', env: 'dev' }]
          : [],
    },
    audit: {
      append: async (entry) => {
        if (!audits.has(entry.id)) audits.set(entry.id, entry);
      },
    },
    events: { publish: async (published) => void events.push(...published) },
    clock,
    limits: { maxConsecutiveFailures: 2 },
  });
  return { resolver, starts, audits, events, store };
}

const ended = (
  runId: string,
  status: RunStatus,
  type: 'manual' | 'on-change' | 'schedule' = 'on-change',
) => ({
  runId,
  ...report,
  status,
  trigger: { type },
  finishedAt: '2026-05-01T09:30:00.000Z',
});

describe('the trigger resolver', () => {
  it('starts the consumer with a deterministic run id and the trigger it records', async () => {
    const { resolver, starts } = fixture();
    const results = await resolver.onDataSetUpdated(updated('up-1'));
    expect(results).toEqual([
      { consumer: report, outcome: 'started', inFlightRunId: triggerRunId(report, ['up-1']) },
    ]);
    expect(starts).toEqual([
      {
        runId: triggerRunId(report, ['up-1']),
        ...report,
        trigger: {
          type: 'on-change',
          upstream: [{ dataset: { namespace: 'sales', name: 'orders' }, runId: 'up-1' }],
          coalesced: 1,
          chain: ['sales/ingest', 'sales/report'],
        },
      },
    ]);
  });

  it('starts the same run again for a repeated delivery, never another one', async () => {
    const { resolver, starts } = fixture();
    await resolver.onDataSetUpdated(updated('up-1'));
    const again = await resolver.onDataSetUpdated(updated('up-1'));
    expect(again[0]?.outcome).toBe('duplicate');
    expect(new Set(starts.map((start) => start.runId))).toEqual(new Set([triggerRunId(report, ['up-1'])]));
  });

  it('ignores updates of datasets that are no DataKit DataSet', async () => {
    const { resolver, starts } = fixture();
    const { datakit: _datakit, ...external } = updated('up-1');
    expect(await resolver.onDataSetUpdated(external)).toEqual([]);
    expect(starts).toEqual([]);
  });

  it('counts the producer in the chain, so a Transform reading its own output stops, audited once', async () => {
    const { resolver, starts, audits } = fixture();
    const own = updated('manual-7', { job: { namespace: 'sales', name: 'report' } });
    expect((await resolver.onDataSetUpdated(own))[0]?.outcome).toBe('cycle-cut');
    expect(starts).toEqual([]);
    // The decision is remembered: a redelivery is a duplicate and audits nothing new.
    expect((await resolver.onDataSetUpdated(own))[0]?.outcome).toBe('duplicate');
    expect([...audits.values()]).toEqual([
      {
        id: expect.any(String),
        at: '2026-05-01T09:00:00.000Z',
        action: 'trigger.cycle-cut',
        subject: 'package:sales/report',
        actor: 'trigger-resolver',
        details: expect.objectContaining({ env: 'dev', cell: 'eu', reason: 'revisits-consumer' }),
      },
    ]);
  });

  it('starts the follow-up when the in-flight run ends, and frees the consumer after it', async () => {
    const { resolver, starts } = fixture();
    await resolver.onDataSetUpdated(updated('up-1'));
    await resolver.onDataSetUpdated(updated('up-2'));
    await resolver.onDataSetUpdated(updated('up-3'));
    expect(starts).toHaveLength(1);
    const followUp = triggerRunId(report, ['up-2', 'up-3']);
    expect(await resolver.onRunEnded(ended(triggerRunId(report, ['up-1']), 'SUCCEEDED'))).toMatchObject({
      outcome: 'ended',
      inFlightRunId: followUp,
    });
    expect(starts.at(-1)).toMatchObject({ runId: followUp, trigger: { coalesced: 2 } });
    await resolver.onRunEnded(ended(followUp, 'SUCCEEDED'));
    expect(await resolver.state(report)).toMatchObject({ consecutiveFailures: 0, paused: false });
    expect((await resolver.state(report)).inFlight).toBeUndefined();
  });

  it('moves on when the run to start already ended (its end came first, or its keys expired)', async () => {
    const { resolver, store } = fixture(() => ({ started: true, status: 'SUCCEEDED' }));
    await resolver.onDataSetUpdated(updated('up-1'));
    expect((await store.getSlot(report))?.slot.inFlight).toBeUndefined();
    expect(await store.isHandled(report, 'up-1')).toBe(true);
  });

  it('audits a refused start, counts it as a failure and pauses after the limit with an event', async () => {
    const refusal = { code: 'DEPLOYMENT_NOT_FOUND', message: 'sales/report is not deployed' };
    const { resolver, audits, events } = fixture(() => ({ started: false, refusal }));
    await resolver.onDataSetUpdated(updated('up-1'));
    expect(await resolver.state(report)).toMatchObject({ consecutiveFailures: 1, paused: false });
    await resolver.onDataSetUpdated(updated('up-2'));
    expect(await resolver.state(report)).toMatchObject({ consecutiveFailures: 2, paused: true });
    const refused = [...audits.values()].filter((entry) => entry.action === 'trigger.start-refused');
    expect(refused.map((entry) => entry.details.refusal)).toEqual([refusal, refusal]);
    expect(events.map((event) => event.detailType)).toEqual(['Consumer Paused']);
    expect(consumerTriggerDetailSchema.parse(events[0]?.detail)).toEqual({
      ...report,
      runId: triggerRunId(report, ['up-2']),
      paused: true,
      consecutiveFailures: 2,
      pausedAt: '2026-05-01T09:00:00.000Z',
    });
    // Paused: further updates are skipped and audited, nothing starts.
    expect((await resolver.onDataSetUpdated(updated('up-3')))[0]?.outcome).toBe('paused-skip');
  });

  it('resumes a paused consumer when a manual run succeeds, not when one fails', async () => {
    const { resolver, events } = fixture();
    for (const runId of ['up-1', 'up-2']) {
      await resolver.onDataSetUpdated(updated(runId));
      await resolver.onRunEnded(ended(triggerRunId(report, [runId]), 'FAILED'));
    }
    expect((await resolver.state(report)).paused).toBe(true);
    expect(await resolver.onRunEnded(ended('manual-1', 'FAILED', 'manual'))).toBeUndefined();
    expect(await resolver.onRunEnded(ended('manual-2', 'SUCCEEDED', 'manual'))).toMatchObject({
      outcome: 'resumed',
    });
    expect(await resolver.state(report)).toMatchObject({ paused: false, consecutiveFailures: 0 });
    expect(events.map((event) => [event.detailType, event.detail.runId])).toEqual([
      ['Consumer Paused', triggerRunId(report, ['up-2'])],
      ['Consumer Resumed', 'manual-2'],
    ]);
    expect((await resolver.onDataSetUpdated(updated('up-3')))[0]?.outcome).toBe('started');
  });

  it('leaves the slot alone when a schedule run ends', async () => {
    const { resolver } = fixture();
    expect(await resolver.onRunEnded(ended('tick-run', 'FAILED', 'schedule'))).toBeUndefined();
  });

  it('gives up with TRIGGER_BUSY (retryable) when the slot keeps changing', async () => {
    const store = new MemoryTriggerStore(clock);
    const resolver = makeTriggerResolver({
      store: {
        getSlot: (id) => store.getSlot(id),
        putSlot: async () => false,
        isHandled: (id, runId) => store.isHandled(id, runId),
        markHandled: (id, upstream, ttl) => store.markHandled(id, upstream, ttl),
      },
      runs: { start: async () => ({ started: true, status: 'PENDING' }) },
      subscriptions: { consumersOf: async () => [{ namespace: 'sales', name: 'report', env: 'dev' }] },
      audit: { append: async () => {} },
      events: { publish: async () => {} },
      clock,
      maxAttempts: 3,
    });
    const error = await resolver.onDataSetUpdated(updated('up-1')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DataKitError);
    expect(error).toMatchObject({ code: 'TRIGGER_BUSY' });
  });
});

describe('schedule ticks', () => {
  const tick = (scheduledTime: string) => ({ ...report, scheduledTime });

  it('starts one run per deployment and scheduled minute, however often the tick arrives', async () => {
    const { resolver, starts } = fixture();
    const first = await resolver.onScheduleTick(tick('2026-05-01T06:00:00Z'));
    const again = await resolver.onScheduleTick(tick('2026-05-01T06:00:00.000Z'));
    const late = await resolver.onScheduleTick(tick('2026-05-01T06:00:42Z'));
    expect(new Set([first.runId, again.runId, late.runId])).toEqual(
      new Set([scheduledRunId(report, '2026-05-01T06:00:00.000Z')]),
    );
    expect(starts[0]).toEqual({
      runId: first.runId,
      ...report,
      trigger: { type: 'schedule', scheduledTime: '2026-05-01T06:00:00.000Z', chain: ['sales/report'] },
    });
    const next = await resolver.onScheduleTick(tick('2026-05-01T07:00:00Z'));
    expect(next.runId).not.toBe(first.runId);
    expect(scheduledRunId({ ...report, env: 'prod' }, '2026-05-01T06:00:00.000Z')).not.toBe(first.runId);
  });

  it('refuses a tick without a time with TRIGGER_SCHEDULED_TIME_INVALID', async () => {
    const { resolver, starts } = fixture();
    await expect(resolver.onScheduleTick(tick('not a time'))).rejects.toMatchObject({
      code: 'TRIGGER_SCHEDULED_TIME_INVALID',
      problems: [expect.objectContaining({ path: 'scheduledTime' })],
    });
    expect(starts).toEqual([]);
  });

  it('audits a tick whose run is refused, as the scheduler', async () => {
    const refusal = { code: 'RUN_STREAMING_TRANSFORM', message: 'streaming' };
    const { resolver, audits } = fixture(() => ({ started: false, refusal }));
    expect(await resolver.onScheduleTick(tick('2026-05-01T06:00:00Z'))).toMatchObject({ outcome: 'refused' });
    expect([...audits.values()]).toEqual([
      expect.objectContaining({
        action: 'trigger.start-refused',
        actor: 'scheduler',
        at: '2026-05-01T06:00:00.000Z',
      }),
    ]);
  });
});
