import type { RunStatus } from '../../contracts/api/runs.js';

/** A deployed consumer: a Transform deployed in one environment and cell. */
export interface SlotId {
  readonly cell: string;
  readonly env: string;
  readonly namespace: string;
  readonly name: string;
}

/** An upstream run that updated a DataSet the consumer reads (`RunTrigger.upstream` entries). */
export interface UpstreamRun {
  readonly dataset: { readonly namespace: string; readonly name: string };
  readonly runId: string;
}

/**
 * Upstream runs taken by the slot: the first `upstream` are listed (the run's trigger names them), and
 * `overflow` counts those that arrived once the list was full (their idempotency keys were written
 * before the slot counted them, ADR trigger design). `chain` is the union of the chains they came with.
 */
export interface UpstreamWindow {
  readonly upstream: readonly UpstreamRun[];
  readonly overflow: number;
  readonly chain: readonly string[];
}

/** The on-change run the slot started and waits for. */
export interface InFlightRun extends UpstreamWindow {
  readonly runId: string;
}

/**
 * The trigger state of one consumer in one cell and environment: at most one on-change run in flight,
 * at most one pending follow-up, and the failure streak that pauses it.
 */
export interface TriggerSlot {
  readonly inFlight?: InFlightRun | undefined;
  readonly pending?: UpstreamWindow | undefined;
  readonly consecutiveFailures: number;
  readonly paused: boolean;
  readonly pausedAt?: string | undefined;
  /** The run whose failure paused the consumer (a repeated end of it republishes the pause). */
  readonly pausedBy?: string | undefined;
  /** The manual run whose success ended the last pause (a repeated end of it republishes the resume). */
  readonly resumedBy?: string | undefined;
  /** The in-flight run that ended last: a repeated end of it repeats the effects, it changes nothing. */
  readonly lastEnded?: string | undefined;
}

/** A slot as stored, with its optimistic-locking revision (0: not stored yet). */
export interface StoredSlot {
  readonly slot: TriggerSlot;
  readonly revision: number;
}

export const emptySlot: TriggerSlot = { consecutiveFailures: 0, paused: false };

/** Limits of the trigger algorithm; every one is configurable. */
export interface TriggerLimits {
  /** A chain of this many consumers stops: an update that arrives with it starts nothing. */
  readonly maxChainLength: number;
  /** On-change runs that fail in a row before the consumer pauses its on-change trigger. */
  readonly maxConsecutiveFailures: number;
  /** Upstream runs a triggered run lists; later ones of the same window are counted, not listed. */
  readonly maxListedUpstream: number;
  /** How long "this upstream run was handled for this consumer" is remembered. */
  readonly handledTtlSeconds: number;
}

export const defaultTriggerLimits: TriggerLimits = {
  maxChainLength: 10,
  maxConsecutiveFailures: 3,
  maxListedUpstream: 100,
  handledTtlSeconds: 7 * 24 * 3600,
};

/** How a consumer appears in a chain: its package identity, whatever the cell or environment. */
export function chainEntry(consumer: { readonly namespace: string; readonly name: string }): string {
  return `${consumer.namespace}/${consumer.name}`;
}

/** Terminal statuses that count as a failure of the consumer (a cancel is someone's decision, not one). */
export function isFailure(status: RunStatus): boolean {
  return status === 'FAILED' || status === 'TIMED_OUT';
}
