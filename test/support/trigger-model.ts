/**
 * The model test of the trigger resolver (ADR trigger design): several resolver invocations run at once
 * against one TriggerStore, every port call is a point where fast-check's scheduler interleaves them and
 * where an invocation may crash (before or after the call took effect) to be redelivered, deliveries are
 * duplicated and reordered, runs complete at random moments with random outcomes. Afterwards the observed
 * history is checked against what the issue promises. Used with the in-memory store (many cases) and
 * with the DynamoDB adapter on dynalite (fewer cases).
 */
import fc from 'fast-check';
import type { RunStatus, RunTrigger } from '../../lib/contracts/api/runs.js';
import type { DatasetUpdatedDetail } from '../../lib/contracts/events/lineage.js';
import { consumerTriggerDetailSchema } from '../../lib/contracts/events/triggers.js';
import {
  chainEntry,
  type SlotId,
  type StoredSlot,
  type TriggerLimits,
  type TriggerSlot,
  type UpstreamRun,
} from '../../lib/domain/triggers/model.js';
import { makeTriggerResolver } from '../../lib/domain/triggers/resolver.js';
import type { DomainEvent } from '../../lib/ports/event-publisher.js';
import type { TriggerAuditEntry } from '../../lib/ports/trigger-audit.js';
import type { TriggeredRunRequest, TriggeredRunStart } from '../../lib/ports/trigger-runs.js';
import type { TriggerStore } from '../../lib/ports/trigger-store.js';

/** A store that keeps items the way DynamoDB does: revision-checked puts, expiring keys filtered on read. */
export class MemoryTriggerStore implements TriggerStore {
  private readonly slots = new Map<string, StoredSlot>();
  private readonly handled = new Map<string, number>();

  constructor(private readonly clock: () => Date) {}

  async getSlot(id: SlotId): Promise<StoredSlot | undefined> {
    const stored = this.slots.get(slotKey(id));
    return stored === undefined ? undefined : structuredClone(stored);
  }

  async putSlot(id: SlotId, slot: TriggerSlot, expectedRevision: number): Promise<boolean> {
    const current = this.slots.get(slotKey(id));
    // attribute_not_exists(PK) for 0, `revision = :expected` otherwise.
    if ((current?.revision ?? 0) !== expectedRevision) return false;
    this.slots.set(slotKey(id), { slot: structuredClone(slot), revision: expectedRevision + 1 });
    return true;
  }

  async isHandled(id: SlotId, upstreamRunId: string): Promise<boolean> {
    const expiresAt = this.handled.get(`${slotKey(id)}\u0000${upstreamRunId}`);
    return expiresAt !== undefined && expiresAt * 1000 > this.clock().getTime();
  }

  async markHandled(id: SlotId, upstream: readonly UpstreamRun[], ttlSeconds: number): Promise<void> {
    const expiresAt = Math.floor(this.clock().getTime() / 1000) + ttlSeconds;
    for (const u of upstream) this.handled.set(`${slotKey(id)}\u0000${u.runId}`, expiresAt);
  }
}

function members(slot: TriggerSlot | undefined): Set<string> {
  return new Set(
    [...(slot?.inFlight?.upstream ?? []), ...(slot?.pending?.upstream ?? [])].map((u) => u.runId),
  );
}

export function slotKey(id: SlotId): string {
  return [id.cell, id.env, id.namespace, id.name].join('\u0000');
}

// --- the scenario ------------------------------------------------------------------------------------

const cell = 'eu';
const datasets = ['d1', 'd2', 'd3'] as const;
const producer = { namespace: 'up', name: 'producer' };

/** Consumers and the DataSets they read: A in dev and prod, B in dev. */
export const modelConsumers: readonly { readonly id: SlotId; readonly reads: readonly string[] }[] = [
  { id: { cell, env: 'dev', namespace: 'team', name: 'a' }, reads: ['d1', 'd2'] },
  { id: { cell, env: 'prod', namespace: 'team', name: 'a' }, reads: ['d1'] },
  { id: { cell, env: 'dev', namespace: 'team', name: 'b' }, reads: ['d2', 'd3'] },
];

/** Chains upstream runs arrive with: empty, unrelated, revisiting A or B, at the length limit. */
const chainPool: readonly (readonly string[])[] = [
  [],
  ['x/extract'],
  ['team/a'],
  ['x/extract', 'team/b'],
  ['x/1', 'x/2', 'x/3'],
];

export const modelLimits: TriggerLimits = {
  maxChainLength: 3,
  maxConsecutiveFailures: 2,
  maxListedUpstream: 2,
  handledTtlSeconds: 7 * 24 * 3600,
};

export interface Scenario {
  readonly upstream: readonly {
    readonly runId: string;
    /** Each output written and how many times its `DataSet Updated` is delivered. */
    readonly outputs: readonly { readonly dataset: string; readonly copies: number }[];
    readonly chain: number;
  }[];
  /** Outcomes of the triggered runs, in the order they complete (cycled). */
  readonly outcomes: readonly RunStatus[];
  /** Deliveries of each run end (cycled): 1 or 2. */
  readonly endCopies: readonly number[];
  /** Manual runs that succeed at a random moment, by consumer index. */
  readonly manual: readonly number[];
  /** Port calls (counted over the whole case) at which the invocation crashes: even before, odd after. */
  readonly crashes: readonly number[];
}

export const scenarioArbitrary: fc.Arbitrary<Scenario> = fc.record({
  upstream: fc.uniqueArray(fc.integer({ min: 1, max: 99 }), { minLength: 1, maxLength: 7 }).chain((ids) =>
    fc.tuple(
      ...ids.map((id) =>
        fc.record({
          runId: fc.constant(`up-${id}`),
          outputs: fc.uniqueArray(
            fc.record({ dataset: fc.constantFrom(...datasets), copies: fc.integer({ min: 1, max: 3 }) }),
            { minLength: 1, maxLength: 3, selector: (output) => output.dataset },
          ),
          chain: fc.nat(chainPool.length - 1),
        }),
      ),
    ),
  ),
  outcomes: fc.array(fc.constantFrom<RunStatus>('SUCCEEDED', 'FAILED', 'TIMED_OUT', 'CANCELLED'), {
    minLength: 1,
    maxLength: 12,
  }),
  endCopies: fc.array(fc.integer({ min: 1, max: 2 }), { minLength: 1, maxLength: 6 }),
  manual: fc.array(fc.nat(modelConsumers.length - 1), { maxLength: 3 }),
  crashes: fc.uniqueArray(fc.nat(300), { maxLength: 8 }),
});

// --- the world ---------------------------------------------------------------------------------------

class Crash extends Error {}

interface ModelRun {
  readonly runId: string;
  readonly consumer: string;
  readonly trigger: RunTrigger;
  readonly createdAt: number;
  status: RunStatus;
  endedAt?: number;
}

interface Delivery {
  readonly upstream: string;
  readonly consumers: readonly string[];
  readonly startedAt: number;
  ackedAt?: number;
}

export interface ModelOutcome {
  readonly violations: readonly string[];
  readonly runs: number;
  readonly crashes: number;
}

/**
 * Runs one scenario to quiescence and returns every violated promise (empty: the algorithm held).
 * `store` is the real store under test; the harness wraps it so each call is a scheduling point.
 */
export async function runTriggerModel(
  s: fc.Scheduler,
  scenario: Scenario,
  makeStore: (clock: () => Date) => TriggerStore,
): Promise<ModelOutcome> {
  const violations: string[] = [];
  const base = Date.UTC(2026, 0, 1);
  let tick = 0;
  const clock = () => new Date(base + tick * 1000);
  const timeOf = (at: number) => new Date(base + at * 1000).toISOString();
  const inner = makeStore(clock);
  let calls = 0;
  let crashed = 0;
  const crashAt = new Set(scenario.crashes);
  let outstanding = 0;

  /** One port call: a scheduling point, and a crash point before or after the call takes effect. */
  async function port<T>(label: string, call: () => Promise<T>): Promise<T> {
    await s.schedule(Promise.resolve(label), label);
    tick++;
    const index = calls++;
    if (crashAt.has(index) && index % 2 === 0) {
      crashed++;
      throw new Crash(`crash before ${label}`);
    }
    const result = await call();
    tick++;
    if (crashAt.has(index) && index % 2 === 1) {
      crashed++;
      throw new Crash(`crash after ${label}`);
    }
    return result;
  }

  const consumerKey = (id: SlotId) => slotKey(id);
  const committed = new Map<string, TriggerSlot>();
  const taken = new Set<string>();
  const runs = new Map<string, ModelRun>();
  const runsOf = (consumer: string) =>
    [...runs.values()].filter((run) => run.consumer === consumer).sort((a, b) => a.createdAt - b.createdAt);
  const audits = new Map<string, TriggerAuditEntry>();
  const published: DomainEvent[] = [];
  const deliveries: Delivery[] = [];
  let outcomeIndex = 0;
  let endCopyIndex = 0;

  const store: TriggerStore = {
    getSlot: (id) => port(`getSlot ${id.env}/${id.name}`, () => inner.getSlot(id)),
    putSlot: (id, slot, revision) =>
      port(`putSlot ${id.env}/${id.name}@${revision}`, async () => {
        const written = await inner.putSlot(id, slot, revision);
        if (written) {
          const before = members(committed.get(consumerKey(id)));
          for (const runId of members(slot)) {
            if (before.has(runId)) continue;
            // Taken: a slot takes each upstream run once, ever (moving from pending to in flight is no take).
            const key = `${consumerKey(id)} ${runId}`;
            if (taken.has(key)) violations.push(`${runId} taken twice by ${consumerKey(id)}`);
            taken.add(key);
          }
          committed.set(consumerKey(id), structuredClone(slot));
        }
        return written;
      }),
    isHandled: (id, runId) =>
      port(`isHandled ${id.env}/${id.name} ${runId}`, () => inner.isHandled(id, runId)),
    markHandled: (id, upstream, ttl) =>
      port(`markHandled ${id.env}/${id.name}`, () => inner.markHandled(id, upstream, ttl)),
  };

  const startRun = async (request: TriggeredRunRequest): Promise<TriggeredRunStart> => {
    const existing = runs.get(request.runId);
    if (existing !== undefined) return { started: true, status: existing.status };
    const consumer = consumerKey(request);
    const slot = committed.get(consumer);
    if (slot?.inFlight?.runId !== request.runId || slot.paused) {
      violations.push(
        `run ${request.runId} of ${consumer} created while the slot does not hold it in flight`,
      );
    }
    for (const other of runsOf(consumer)) {
      if (other.endedAt === undefined) {
        violations.push(`run ${request.runId} of ${consumer} created while ${other.runId} is in flight`);
      }
    }
    const run: ModelRun = {
      runId: request.runId,
      consumer,
      trigger: request.trigger,
      createdAt: tick,
      status: 'RUNNING',
    };
    runs.set(request.runId, run);
    // The run completes at a moment the scheduler picks, then its end is delivered once or twice.
    void s.schedule(Promise.resolve(), `complete ${request.runId}`).then(() => {
      run.status = scenario.outcomes[outcomeIndex++ % scenario.outcomes.length] ?? 'SUCCEEDED';
      tick++;
      run.endedAt = tick;
      const copies = scenario.endCopies[endCopyIndex++ % scenario.endCopies.length] ?? 1;
      for (let copy = 0; copy < copies; copy++) {
        deliver(`end ${request.runId}`, async () => {
          await resolver.onRunEnded({
            runId: run.runId,
            namespace: request.namespace,
            name: request.name,
            env: request.env,
            cell: request.cell,
            status: run.status,
            trigger: { type: 'on-change' },
            finishedAt: timeOf(run.endedAt ?? tick),
          });
        });
      }
    });
    return { started: true, status: 'RUNNING' };
  };

  const resolver = makeTriggerResolver({
    store,
    runs: { start: (request) => port(`start ${request.runId}`, () => startRun(request)) },
    subscriptions: {
      consumersOf: (_cell, dataset) =>
        port(`consumersOf ${dataset.name}`, async () =>
          modelConsumers
            .filter((consumer) => consumer.reads.includes(dataset.name))
            .map((consumer) => ({
              namespace: consumer.id.namespace,
              name: consumer.id.name,
              env: consumer.id.env,
            })),
        ),
    },
    audit: {
      append: (entry) =>
        port(`audit ${entry.action}`, async () => {
          if (!audits.has(entry.id)) audits.set(entry.id, entry);
        }),
    },
    events: {
      publish: (events) =>
        port('publish', async () => {
          published.push(...events);
        }),
    },
    clock,
    limits: modelLimits,
  });

  /** At-least-once delivery: a crashed or busy invocation is delivered again until it completes. */
  function deliver(label: string, handle: (delivery: { started: number }) => Promise<void>): void {
    outstanding++;
    // Coverage is judged from the first attempt: a crashed attempt may have done part of the work.
    let started: number | undefined;
    const attempt = async (): Promise<void> => {
      await s.schedule(Promise.resolve(label), `deliver ${label}`);
      started ??= tick;
      try {
        await handle({ started });
      } catch (error) {
        const busy = error instanceof Error && 'code' in error && error.code === 'TRIGGER_BUSY';
        if (error instanceof Crash || busy) return attempt();
        violations.push(`unexpected error in ${label}: ${String(error)}`);
      }
    };
    void attempt().finally(() => {
      outstanding--;
    });
  }

  for (const upstream of scenario.upstream) {
    const chain = chainPool[upstream.chain] ?? [];
    for (const output of upstream.outputs) {
      const detail: DatasetUpdatedDetail = {
        dataset: { namespace: 's3://bucket', name: output.dataset },
        version: `${upstream.runId}-${output.dataset}`,
        runId: upstream.runId,
        job: producer,
        eventTime: timeOf(0),
        producer: '',
        cell,
        datakit: { namespace: 'shared', name: output.dataset },
        producerRunId: upstream.runId,
        chain: [...chain],
      };
      const consumers = modelConsumers
        .filter((consumer) => consumer.reads.includes(output.dataset))
        .map((consumer) => consumerKey(consumer.id));
      for (let copy = 0; copy < output.copies; copy++) {
        deliver(`update ${upstream.runId}/${output.dataset}#${copy}`, async ({ started }) => {
          const delivery: Delivery = { upstream: upstream.runId, consumers, startedAt: started };
          await resolver.onDataSetUpdated(detail);
          delivery.ackedAt = tick;
          deliveries.push(delivery);
        });
      }
    }
  }
  for (const [index, consumerIndex] of scenario.manual.entries()) {
    const consumer = modelConsumers[consumerIndex]?.id;
    if (consumer === undefined) continue;
    outstanding++;
    void s
      .schedule(Promise.resolve(), `manual ${index}`)
      .then(() => {
        const finishedAt = timeOf(++tick);
        deliver(`manual ${index}`, async () => {
          await resolver.onRunEnded({
            runId: `manual-${index}`,
            ...consumer,
            status: 'SUCCEEDED',
            trigger: { type: 'manual' },
            finishedAt,
          });
        });
      })
      .finally(() => {
        outstanding--;
      });
  }

  // Drive the scheduler until every delivery is acknowledged and every run has ended. A real store (the
  // DynamoDB adapter) does I/O the scheduler does not see: then wait for it to schedule the next step.
  for (let idle = 0; outstanding > 0 || s.count() > 0; ) {
    if (s.count() > 0) {
      idle = 0;
      await s.waitNext(1);
    } else {
      if (++idle > 10_000) {
        violations.push('the model did not quiesce');
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  check();
  return { violations, runs: runs.size, crashes: crashed };

  function check(): void {
    for (const { id } of modelConsumers) {
      const consumer = consumerKey(id);
      const self = chainEntry(id);
      const own = runsOf(consumer);
      // Liveness: nothing left in flight or pending once every delivery is done and every run ended.
      const slot = committed.get(consumer);
      if (slot?.inFlight !== undefined || slot?.pending !== undefined) {
        violations.push(`${consumer} is stuck: ${JSON.stringify(slot)}`);
      }
      for (const run of own) {
        const upstream = run.trigger.upstream ?? [];
        if (upstream.length === 0) violations.push(`run ${run.runId} lists no upstream run`);
        if ((run.trigger.coalesced ?? 0) < upstream.length) {
          violations.push(`run ${run.runId} counts fewer updates than it lists`);
        }
        if (run.trigger.chain?.at(-1) !== self)
          violations.push(`run ${run.runId} chain does not end with ${self}`);
        if (run.endedAt === undefined) violations.push(`run ${run.runId} never ended`);
      }
      const audited = (action: string, runId: string) =>
        [...audits.values()].some(
          (entry) =>
            entry.action === action &&
            entry.subject === `package:${id.namespace}/${id.name}` &&
            entry.details.env === id.env &&
            JSON.stringify(entry.details.upstream ?? null).includes(`"${runId}"`),
        );
      for (const upstream of scenario.upstream) {
        const reads = upstream.outputs.some((output) =>
          modelConsumers.find((c) => consumerKey(c.id) === consumer)?.reads.includes(output.dataset),
        );
        if (!reads) continue;
        const given = chainPool[upstream.chain] ?? [];
        const chain = given.includes(chainEntry(producer)) ? given : [...given, chainEntry(producer)];
        const listing = own.filter((run) => run.trigger.upstream?.some((u) => u.runId === upstream.runId));
        const where = `${upstream.runId} for ${consumer}`;
        if (listing.length > 1) violations.push(`${where} started ${listing.length} runs`);
        if (chain.includes(self) || chain.length >= modelLimits.maxChainLength) {
          if (listing.length > 0) violations.push(`${where} ran although its chain is cut`);
          if (!audited('trigger.cycle-cut', upstream.runId))
            violations.push(`${where} was cut without audit`);
          continue;
        }
        const skipped = audited('trigger.paused-skip', upstream.runId);
        const firstStart = Math.min(
          ...deliveries
            .filter((d) => d.upstream === upstream.runId && d.consumers.includes(consumer))
            .map((d) => d.startedAt),
        );
        // Beyond the listed limit an update is only counted (and the count may fall short under contention
        // or a crash): it is covered when a run of the consumer started after it arrived, or dropped with
        // the rest of a window when the consumer paused.
        const counted =
          own.some((run) => run.createdAt > firstStart) ||
          [...audits.values()].some(
            (entry) =>
              entry.action === 'trigger.paused-skip' &&
              entry.subject === `package:${id.namespace}/${id.name}` &&
              entry.details.env === id.env &&
              Number(entry.details.overflow) > 0,
          );
        if (listing.length === 0 && !skipped && !counted) violations.push(`${where} was lost`);
        // One follow-up per window: an update acknowledged while run R was in flight throughout, and not
        // taken by an earlier run, is listed by the run right after R, not by a later one.
        const taker = listing[0];
        if (taker === undefined) continue;
        for (const delivery of deliveries) {
          if (delivery.upstream !== upstream.runId || !delivery.consumers.includes(consumer)) continue;
          const live = own.find(
            (run) =>
              run.runId !== taker.runId &&
              run.createdAt < delivery.startedAt &&
              (run.endedAt ?? Number.POSITIVE_INFINITY) > (delivery.ackedAt ?? 0),
          );
          if (live === undefined || taker.createdAt < live.createdAt) continue;
          const next = own.find((run) => run.createdAt > live.createdAt);
          if (next?.runId !== taker.runId) {
            violations.push(
              `${where} arrived while ${live.runId} ran but ${taker.runId} is not its follow-up`,
            );
          }
        }
      }
      // A pause follows N failures in a row (cancellations aside) of the consumer's runs.
      for (const event of published) {
        if (event.detailType !== 'Consumer Paused') continue;
        const parsed = consumerTriggerDetailSchema.safeParse(event.detail);
        if (!parsed.success) {
          violations.push(`malformed ${event.detailType}: ${parsed.error.message}`);
          continue;
        }
        const detail = parsed.data;
        if (detail.env !== id.env || detail.name !== id.name || detail.namespace !== id.namespace) continue;
        const upTo = own.slice(0, own.findIndex((run) => run.runId === detail.runId) + 1);
        const streak = upTo
          .filter((run) => run.status !== 'CANCELLED')
          .slice(-modelLimits.maxConsecutiveFailures);
        if (
          streak.length < modelLimits.maxConsecutiveFailures ||
          streak.some((run) => run.status !== 'FAILED' && run.status !== 'TIMED_OUT')
        ) {
          violations.push(
            `${consumer} paused by ${detail.runId} without ${modelLimits.maxConsecutiveFailures} failures in a row`,
          );
        }
      }
    }
  }
}
