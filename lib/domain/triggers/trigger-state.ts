import type { RunStatus, RunTrigger } from '../../contracts/api/runs.js';
import { deterministicUuid } from '../lineage/event-id.js';
import {
  chainEntry,
  type InFlightRun,
  isFailure,
  type SlotId,
  type TriggerLimits,
  type TriggerSlot,
  type UpstreamRun,
  type UpstreamWindow,
} from './model.js';

/** Something that happened to a consumer's trigger slot. */
export type TriggerEvent =
  /**
   * An upstream run updated a DataSet the consumer reads. `handled` says whether the upstream run's
   * idempotency key existed when it was read, which must be after the slot was read (ADR trigger design).
   */
  | {
      readonly type: 'update';
      readonly upstream: UpstreamRun;
      readonly chain: readonly string[];
      readonly handled: boolean;
      readonly at: string;
    }
  /** A run of the consumer ended (or could not start: then it counts as FAILED). */
  | { readonly type: 'run-ended'; readonly runId: string; readonly status: RunStatus; readonly at: string }
  /** A manual run of the consumer succeeded: the failure streak resets and a pause ends. */
  | { readonly type: 'manual-succeeded'; readonly runId: string; readonly at: string };

export type TriggerAuditAction =
  | 'trigger.cycle-cut'
  | 'trigger.paused-skip'
  | 'trigger.consumer-paused'
  | 'trigger.consumer-resumed'
  | 'trigger.start-refused';

/** Effects the resolver carries out after the slot is written; each is idempotent downstream. */
export type TriggerAction =
  /** Start (or start again: same id, same run) the on-change run. */
  | { readonly type: 'start-run'; readonly runId: string; readonly trigger: RunTrigger }
  | { readonly type: 'audit'; readonly action: TriggerAuditAction; readonly details: Record<string, unknown> }
  | {
      readonly type: 'publish';
      readonly detailType: 'Consumer Paused' | 'Consumer Resumed';
      readonly runId: string;
    };

/** What happened to the event, for logs, results and tests. */
export type TriggerOutcome =
  | 'started'
  | 'coalesced'
  | 'duplicate'
  | 'cycle-cut'
  | 'paused-skip'
  | 'ended'
  | 'not-in-flight'
  | 'resumed'
  | 'unchanged';

export interface TriggerTransition {
  /** The slot after the event (the current one when nothing changed). */
  readonly slot: TriggerSlot;
  /** Whether the slot must be written (conditionally on the revision it was read at). */
  readonly changed: boolean;
  /**
   * Upstream runs whose idempotency keys must exist BEFORE the slot is written: every upstream run the
   * slot forgets, and those it only counts. This order is what makes a late redelivery find either the
   * upstream run in the slot or its key, never neither.
   */
  readonly markHandled: readonly UpstreamRun[];
  readonly actions: readonly TriggerAction[];
  readonly outcome: TriggerOutcome;
}

/**
 * The run id of an on-change run: a UUID from SHA-256 of the consumer and the sorted ids of the upstream
 * runs it lists. Starting it twice is one run (the run record is written if absent, the execution name is
 * the run id), which is what makes a crash between the slot write and the start safe.
 */
export function triggerRunId(id: SlotId, upstreamRunIds: readonly string[]): string {
  const sorted = [...new Set(upstreamRunIds)].sort();
  return deterministicUuid('datakit.trigger', id.cell, id.env, id.namespace, id.name, ...sorted);
}

/** The trigger a run records: the upstream runs it covers, how many, and the chain including itself. */
export function onChangeTrigger(id: SlotId, run: UpstreamWindow): RunTrigger {
  return {
    type: 'on-change',
    upstream: run.upstream.map((u) => ({ dataset: { ...u.dataset }, runId: u.runId })),
    coalesced: run.upstream.length + run.overflow,
    chain: [...run.chain, chainEntry(id)],
  };
}

function startRun(id: SlotId, run: InFlightRun): TriggerAction {
  return { type: 'start-run', runId: run.runId, trigger: onChangeTrigger(id, run) };
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])];
}

function holds(window: UpstreamWindow | undefined, runId: string): boolean {
  return window?.upstream.some((u) => u.runId === runId) ?? false;
}

function same(slot: TriggerSlot, outcome: TriggerOutcome, actions: TriggerAction[] = []): TriggerTransition {
  return { slot, changed: false, markHandled: [], actions, outcome };
}

/**
 * The trigger algorithm as a pure function (ARCHITECTURE §3, ADR trigger design): (slot, event) → (slot',
 * keys to settle first, actions). The resolver applies it with a conditional write on the slot's revision
 * and retries on a conflict, so concurrent and repeated deliveries linearise on the slot.
 */
export function transitionSlot(
  id: SlotId,
  slot: TriggerSlot,
  event: TriggerEvent,
  limits: TriggerLimits,
): TriggerTransition {
  switch (event.type) {
    case 'update':
      return onUpdate(id, slot, event, limits);
    case 'run-ended':
      return onRunEnded(id, slot, event, limits);
    case 'manual-succeeded':
      return onManualSucceeded(slot, event);
  }
}

function onUpdate(
  id: SlotId,
  slot: TriggerSlot,
  event: Extract<TriggerEvent, { type: 'update' }>,
  limits: TriggerLimits,
): TriggerTransition {
  const u = event.upstream;
  // Another delivery (a duplicate, or another output of the same run) already took it: start the in-flight
  // run again (same id, so at most one run) in case the taker died between its write and its start.
  if (slot.inFlight !== undefined && holds(slot.inFlight, u.runId)) {
    return same(slot, 'duplicate', [startRun(id, slot.inFlight)]);
  }
  if (holds(slot.pending, u.runId) || event.handled) return same(slot, 'duplicate');
  const self = chainEntry(id);
  if (event.chain.includes(self) || event.chain.length >= limits.maxChainLength) {
    return {
      slot,
      changed: false,
      markHandled: [u],
      actions: [
        {
          type: 'audit',
          action: 'trigger.cycle-cut',
          details: {
            upstream: u,
            chain: [...event.chain],
            reason: event.chain.includes(self) ? 'revisits-consumer' : 'too-long',
            maxChainLength: limits.maxChainLength,
          },
        },
      ],
      outcome: 'cycle-cut',
    };
  }
  if (slot.paused) {
    return {
      slot,
      changed: false,
      markHandled: [u],
      actions: [
        {
          type: 'audit',
          action: 'trigger.paused-skip',
          details: { upstream: [u], overflow: 0, pausedAt: slot.pausedAt },
        },
      ],
      outcome: 'paused-skip',
    };
  }
  if (slot.inFlight === undefined) {
    const run: InFlightRun = {
      runId: triggerRunId(id, [u.runId]),
      upstream: [u],
      overflow: 0,
      chain: [...event.chain],
    };
    return {
      slot: { ...slot, inFlight: run },
      changed: true,
      markHandled: [],
      actions: [startRun(id, run)],
      outcome: 'started',
    };
  }
  const pending = slot.pending ?? { upstream: [], overflow: 0, chain: [] };
  const chain = union(pending.chain, event.chain);
  if (pending.upstream.length < limits.maxListedUpstream) {
    return {
      slot: { ...slot, pending: { upstream: [...pending.upstream, u], overflow: pending.overflow, chain } },
      changed: true,
      markHandled: [],
      actions: [],
      outcome: 'coalesced',
    };
  }
  // The list is full: the follow-up still covers this update (it starts later, so it reads it), the slot
  // only counts it, and its key is written first so a redelivery finds it handled.
  return {
    slot: { ...slot, pending: { upstream: pending.upstream, overflow: pending.overflow + 1, chain } },
    changed: true,
    markHandled: [u],
    actions: [],
    outcome: 'coalesced',
  };
}

function onRunEnded(
  id: SlotId,
  slot: TriggerSlot,
  event: Extract<TriggerEvent, { type: 'run-ended' }>,
  limits: TriggerLimits,
): TriggerTransition {
  const inFlight = slot.inFlight;
  if (inFlight === undefined || inFlight.runId !== event.runId) {
    if (slot.lastEnded !== event.runId) return same(slot, 'not-in-flight');
    // A repeated end (a retried delivery, or the start of an already ended run): repeat the effects that
    // the first one may not have carried out, change nothing.
    const actions: TriggerAction[] = [];
    if (inFlight !== undefined) actions.push(startRun(id, inFlight));
    if (slot.paused && slot.pausedBy === event.runId) {
      actions.push({ type: 'publish', detailType: 'Consumer Paused', runId: event.runId });
    }
    return same(slot, 'ended', actions);
  }
  const failures =
    event.status === 'SUCCEEDED'
      ? 0
      : isFailure(event.status)
        ? slot.consecutiveFailures + 1
        : slot.consecutiveFailures;
  const pausesNow = !slot.paused && failures >= limits.maxConsecutiveFailures;
  const paused = slot.paused || pausesNow;
  const actions: TriggerAction[] = [];
  const markHandled: UpstreamRun[] = [...inFlight.upstream];
  let next: TriggerSlot = {
    consecutiveFailures: failures,
    paused,
    lastEnded: event.runId,
    ...(pausesNow
      ? { pausedAt: event.at, pausedBy: event.runId }
      : paused
        ? { pausedAt: slot.pausedAt, pausedBy: slot.pausedBy }
        : {}),
    ...(pausesNow || slot.resumedBy === undefined ? {} : { resumedBy: slot.resumedBy }),
  };
  if (slot.pending !== undefined && !paused) {
    const followUp: InFlightRun = {
      ...slot.pending,
      runId: triggerRunId(
        id,
        slot.pending.upstream.map((u) => u.runId),
      ),
    };
    next = { ...next, inFlight: followUp };
    actions.push(startRun(id, followUp));
  } else if (slot.pending !== undefined) {
    markHandled.push(...slot.pending.upstream);
    actions.push({
      type: 'audit',
      action: 'trigger.paused-skip',
      details: { upstream: slot.pending.upstream, overflow: slot.pending.overflow, pausedAt: event.at },
    });
  }
  if (pausesNow) {
    actions.push(
      { type: 'publish', detailType: 'Consumer Paused', runId: event.runId },
      {
        type: 'audit',
        action: 'trigger.consumer-paused',
        details: {
          runId: event.runId,
          status: event.status,
          consecutiveFailures: failures,
          maxConsecutiveFailures: limits.maxConsecutiveFailures,
        },
      },
    );
  }
  return { slot: next, changed: true, markHandled, actions, outcome: 'ended' };
}

function onManualSucceeded(
  slot: TriggerSlot,
  event: Extract<TriggerEvent, { type: 'manual-succeeded' }>,
): TriggerTransition {
  if (slot.resumedBy === event.runId && !slot.paused) {
    // A repeated delivery of the success that resumed the consumer: publish again, change nothing.
    return same(slot, 'resumed', [{ type: 'publish', detailType: 'Consumer Resumed', runId: event.runId }]);
  }
  if (!slot.paused) {
    if (slot.consecutiveFailures === 0) return same(slot, 'unchanged');
    return {
      slot: { ...slot, consecutiveFailures: 0 },
      changed: true,
      markHandled: [],
      actions: [],
      outcome: 'unchanged',
    };
  }
  // A success that ended before the pause began (a late duplicate) does not end it.
  if (slot.pausedAt !== undefined && event.at < slot.pausedAt) return same(slot, 'unchanged');
  const { pausedAt: _at, pausedBy: _by, ...rest } = slot;
  return {
    slot: { ...rest, paused: false, consecutiveFailures: 0, resumedBy: event.runId },
    changed: true,
    markHandled: [],
    actions: [
      { type: 'publish', detailType: 'Consumer Resumed', runId: event.runId },
      {
        type: 'audit',
        action: 'trigger.consumer-resumed',
        details: { runId: event.runId, pausedAt: slot.pausedAt },
      },
    ],
    outcome: 'resumed',
  };
}
