import { type RunStatus, type TriggerType, terminalRunStatuses } from '../../contracts/api/runs.js';
import type { DatasetUpdatedDetail } from '../../contracts/events/lineage.js';
import type { ConsumerTriggerDetail } from '../../contracts/events/triggers.js';
import type { EventPublisher } from '../../ports/event-publisher.js';
import type { TriggerAuditEntry, TriggerAuditLog } from '../../ports/trigger-audit.js';
import type { TriggeredRunStarter } from '../../ports/trigger-runs.js';
import type { TriggerStore } from '../../ports/trigger-store.js';
import type { ConsumerDirectory } from '../../ports/trigger-subscriptions.js';
import { mapBounded } from '../concurrency.js';
import { DependencyUnavailableError, ValidationError } from '../errors.js';
import { canonicalJson, deterministicUuid } from '../lineage/event-id.js';
import {
  chainEntry,
  defaultTriggerLimits,
  emptySlot,
  type SlotId,
  type TriggerLimits,
  type TriggerSlot,
  type UpstreamRun,
} from './model.js';
import { scheduledRunId } from './schedule.js';
import {
  type TriggerAction,
  type TriggerAuditAction,
  type TriggerEvent,
  type TriggerOutcome,
  type TriggerTransition,
  transitionSlot,
} from './trigger-state.js';

export interface TriggerResolverDependencies {
  readonly store: TriggerStore;
  readonly runs: TriggeredRunStarter;
  readonly subscriptions: ConsumerDirectory;
  readonly audit: TriggerAuditLog;
  readonly events: EventPublisher;
  readonly clock: () => Date;
  readonly limits?: Partial<TriggerLimits> | undefined;
  /** Conditional writes of one slot tried before giving up with TRIGGER_BUSY (the delivery is retried). */
  readonly maxAttempts?: number | undefined;
}

/** A run that ended, as `Run Succeeded` / `Run Failed` carry it (RunEventDetail has every field). */
export interface EndedRun {
  readonly runId: string;
  readonly namespace: string;
  readonly name: string;
  readonly env: string;
  readonly cell: string;
  readonly status: RunStatus;
  readonly trigger: { readonly type: TriggerType };
  readonly finishedAt?: string | undefined;
}

/** One tick of a deployment's schedule (EventBridge Scheduler's `<aws.scheduler.scheduled-time>`). */
export interface ScheduleTick {
  readonly namespace: string;
  readonly name: string;
  readonly env: string;
  readonly cell: string;
  readonly scheduledTime: string;
}

/** What one delivery did to one consumer. */
export interface TriggerResult {
  readonly consumer: SlotId;
  readonly outcome: TriggerOutcome;
  /** The consumer's in-flight run after the delivery, if any. */
  readonly inFlightRunId?: string | undefined;
}

export interface ScheduleTickResult {
  readonly runId: string;
  readonly outcome: 'started' | 'refused';
  readonly status?: RunStatus | undefined;
}

const defaultMaxAttempts = 25;

/** Consumers of one update resolved at once. */
const fanOutConcurrency = 16;

/**
 * The trigger resolver (ARCHITECTURE §3, ADR trigger design). Deliveries are at least once, concurrent and
 * unordered; each applies `transitionSlot` to the consumer's slot with a conditional write (re-reading and
 * re-applying on a conflict), writes the idempotency keys the transition asks for before that write, then
 * carries out the actions — all of them idempotent, so a crash anywhere is healed by the redelivery.
 */
export function makeTriggerResolver(deps: TriggerResolverDependencies) {
  const limits: TriggerLimits = { ...defaultTriggerLimits, ...deps.limits };
  if (limits.maxListedUpstream < 1) throw new Error('maxListedUpstream must be at least 1');
  const maxAttempts = deps.maxAttempts ?? defaultMaxAttempts;
  const now = () => deps.clock().toISOString();

  /** Reads, decides, settles keys, writes conditionally (retrying on conflicts), then acts. */
  async function apply(
    id: SlotId,
    eventFor: (slot: TriggerSlot) => Promise<TriggerEvent>,
  ): Promise<TriggerTransition> {
    for (let attempt = 1; ; attempt++) {
      const stored = (await deps.store.getSlot(id)) ?? { slot: emptySlot, revision: 0 };
      const event = await eventFor(stored.slot);
      const transition = transitionSlot(id, stored.slot, event, limits);
      const mark = () => deps.store.markHandled(id, transition.markHandled, limits.handledTtlSeconds);
      if (!transition.changed) {
        // Nothing is forgotten: act first (audit a cut or a skip), then say the upstream run is handled,
        // so a crash in between repeats the decision and its audit instead of losing them.
        await carryOut(id, transition, event);
        if (transition.markHandled.length > 0) await mark();
        return transition;
      }
      // The slot forgets or only counts these upstream runs: their keys must exist before it does.
      if (transition.markHandled.length > 0) await mark();
      if (!(await deps.store.putSlot(id, transition.slot, stored.revision))) {
        if (attempt >= maxAttempts) {
          throw new DependencyUnavailableError(
            'TRIGGER_BUSY',
            `The trigger state of ${slotName(id)} kept changing; the delivery will be retried.`,
          );
        }
        continue;
      }
      await carryOut(id, transition, event);
      return transition;
    }
  }

  async function carryOut(id: SlotId, transition: TriggerTransition, event: TriggerEvent): Promise<void> {
    for (const action of transition.actions) await carryOutOne(id, transition.slot, action, event);
  }

  async function carryOutOne(
    id: SlotId,
    slot: TriggerSlot,
    action: TriggerAction,
    event: TriggerEvent,
  ): Promise<void> {
    switch (action.type) {
      case 'start-run': {
        const started = await deps.runs.start({
          runId: action.runId,
          namespace: id.namespace,
          name: id.name,
          env: id.env,
          cell: id.cell,
          trigger: action.trigger,
        });
        if (!started.started) {
          await audit(id, 'trigger.start-refused', event.at, {
            runId: action.runId,
            refusal: started.refusal,
          });
          // A run that cannot start ended before it began: the slot moves on, the streak counts it.
          await endRun(id, action.runId, 'FAILED', event.at);
        } else if (terminalRunStatuses.has(started.status)) {
          // The run existed and already ended (its end was delivered before this start, or the keys of its
          // upstream runs expired): feed its end so the slot never waits for an end that will not come.
          await endRun(id, action.runId, started.status, event.at);
        }
        return;
      }
      case 'audit':
        await audit(id, action.action, event.at, action.details);
        return;
      case 'publish': {
        const detail: ConsumerTriggerDetail = {
          namespace: id.namespace,
          name: id.name,
          env: id.env,
          cell: id.cell,
          runId: action.runId,
          paused: action.detailType === 'Consumer Paused',
          consecutiveFailures: slot.consecutiveFailures,
          ...(slot.pausedAt === undefined ? {} : { pausedAt: slot.pausedAt }),
        };
        await deps.events.publish([
          {
            detailType: action.detailType,
            detail,
            resources: [`datakit:package/${id.namespace}/${id.name}`],
          },
        ]);
        return;
      }
    }
  }

  async function audit(
    id: SlotId,
    action: TriggerAuditAction,
    at: string,
    details: Readonly<Record<string, unknown>>,
  ): Promise<void> {
    const entry: TriggerAuditEntry = {
      // Deterministic: a redelivery writes the same entry, which the append-only log keeps once.
      id: deterministicUuid('datakit.trigger-audit', action, slotName(id), canonicalJson(details)),
      at,
      action,
      subject: `package:${id.namespace}/${id.name}`,
      actor: 'trigger-resolver',
      details: { env: id.env, cell: id.cell, ...details },
      ...(action === 'trigger.start-refused' ? { outcome: 'refused' as const } : {}),
    };
    await deps.audit.append(entry);
  }

  function endRun(id: SlotId, runId: string, status: RunStatus, at: string): Promise<TriggerTransition> {
    return apply(id, async () => ({ type: 'run-ended', runId, status, at }));
  }

  const result = (consumer: SlotId, transition: TriggerTransition): TriggerResult => ({
    consumer,
    outcome: transition.outcome,
    ...(transition.slot.inFlight === undefined ? {} : { inFlightRunId: transition.slot.inFlight.runId }),
  });

  return {
    /**
     * `DataSet Updated`: for each on-change consumer of the DataSet in its cell, take the upstream run
     * into the consumer's slot — start a run, join the pending follow-up, or skip it (already handled,
     * chain cut, consumer paused). Updates of datasets that are no DataKit DataSet trigger nothing.
     */
    async onDataSetUpdated(detail: DatasetUpdatedDetail): Promise<TriggerResult[]> {
      const { cell, datakit } = detail;
      if (cell === undefined || datakit === undefined) return [];
      const consumers = await deps.subscriptions.consumersOf(cell, datakit);
      const upstream: UpstreamRun = {
        dataset: { namespace: datakit.namespace, name: datakit.name },
        runId: detail.producerRunId ?? detail.runId,
      };
      // The producer is part of the chain: a manual run's output that its own Transform reads stops there.
      const producer = chainEntry(detail.job);
      const given = detail.chain ?? [];
      const chain = given.includes(producer) ? given : [...given, producer];
      // Consumers are independent slots: they are resolved side by side (a DataSet read by a thousand
      // consumers must not wait for each in turn), boundedly, so one delivery cannot swamp the table.
      return mapBounded(consumers, fanOutConcurrency, async (consumer) => {
        const id: SlotId = {
          cell: consumer.cell ?? cell,
          env: consumer.env,
          namespace: consumer.namespace,
          name: consumer.name,
        };
        const transition = await apply(id, async (slot) => {
          // The key is read after the slot (ADR trigger design): a slot that no longer holds the upstream
          // run forgot it only after its key was written, so this read sees the key.
          const taken =
            slot.inFlight?.upstream.some((u) => u.runId === upstream.runId) === true ||
            slot.pending?.upstream.some((u) => u.runId === upstream.runId) === true;
          const handled = taken ? false : await deps.store.isHandled(id, upstream.runId);
          return { type: 'update', upstream, chain, handled, at: detail.eventTime };
        });
        return result(id, transition);
      });
    },

    /**
     * A run ended (`Run Succeeded` / `Run Failed`): the end of a consumer's in-flight on-change run frees
     * its slot and starts the pending follow-up; a manual run's success resets the failure streak and
     * ends a pause. Schedule runs and failed manual runs change nothing.
     */
    async onRunEnded(run: EndedRun): Promise<TriggerResult | undefined> {
      if (!terminalRunStatuses.has(run.status)) return undefined;
      const id: SlotId = { cell: run.cell, env: run.env, namespace: run.namespace, name: run.name };
      const at = run.finishedAt ?? now();
      if (run.trigger.type === 'manual') {
        if (run.status !== 'SUCCEEDED') return undefined;
        return result(id, await apply(id, async () => ({ type: 'manual-succeeded', runId: run.runId, at })));
      }
      if (run.trigger.type !== 'on-change') return undefined;
      return result(id, await endRun(id, run.runId, run.status, at));
    },

    /**
     * One schedule tick: starts the run of this deployment and scheduled time. Its id comes from both, so
     * a tick delivered twice (or by two schedulers) is one run.
     */
    async onScheduleTick(tick: ScheduleTick): Promise<ScheduleTickResult> {
      const id: SlotId = { cell: tick.cell, env: tick.env, namespace: tick.namespace, name: tick.name };
      const scheduledTime = normalizeScheduledTime(tick.scheduledTime);
      const runId = scheduledRunId(id, scheduledTime);
      const started = await deps.runs.start({
        runId,
        namespace: id.namespace,
        name: id.name,
        env: id.env,
        cell: id.cell,
        trigger: { type: 'schedule', scheduledTime, chain: [chainEntry(id)] },
      });
      if (started.started) return { runId, outcome: 'started', status: started.status };
      await deps.audit.append({
        id: deterministicUuid('datakit.trigger-audit', 'trigger.start-refused', slotName(id), scheduledTime),
        at: scheduledTime,
        action: 'trigger.start-refused',
        subject: `package:${id.namespace}/${id.name}`,
        actor: 'scheduler',
        details: { env: id.env, cell: id.cell, runId, scheduledTime, refusal: started.refusal },
        outcome: 'refused',
      });
      return { runId, outcome: 'refused' };
    },

    /** The consumer's trigger state (status pages show `paused` and the failure streak). */
    async state(id: SlotId): Promise<TriggerSlot> {
      return (await deps.store.getSlot(id))?.slot ?? emptySlot;
    },
  };
}

export type TriggerResolver = ReturnType<typeof makeTriggerResolver>;

function slotName(id: SlotId): string {
  return `${id.namespace}/${id.name} (${id.env}, cell ${id.cell})`;
}

/** A tick's time to the minute, in UTC ISO form: the same tick always has the same text. */
export function normalizeScheduledTime(value: string): string {
  const time = Date.parse(value);
  if (Number.isNaN(time)) {
    throw new ValidationError('TRIGGER_SCHEDULED_TIME_INVALID', `${value} is not a time.`, {
      problems: [
        { code: 'TRIGGER_SCHEDULED_TIME_INVALID', path: 'scheduledTime', message: 'must be a time' },
      ],
    });
  }
  return new Date(Math.floor(time / 60_000) * 60_000).toISOString();
}
