import type { SlotId, StoredSlot, TriggerSlot, UpstreamRun } from '../domain/triggers/model.js';

/**
 * The trigger resolver's durable state (ADR trigger design): one slot per consumer × cell × environment
 * under optimistic locking, and "handled" keys per consumer and upstream run that expire. Every read is
 * strongly consistent; every method throws on storage failures (the delivery is then retried).
 */
export interface TriggerStore {
  /** The slot and its revision; undefined when it was never written. */
  getSlot(id: SlotId): Promise<StoredSlot | undefined>;
  /**
   * Writes the slot if its stored revision is still `expectedRevision` (0: it must not exist yet); false,
   * and nothing written, when someone else wrote it first (the caller reads it again and re-applies).
   */
  putSlot(id: SlotId, slot: TriggerSlot, expectedRevision: number): Promise<boolean>;
  /** Whether the consumer handled this upstream run within the keys' lifetime (expired keys count as absent). */
  isHandled(id: SlotId, upstreamRunId: string): Promise<boolean>;
  /** Records the upstream runs as handled by the consumer for `ttlSeconds` (idempotent; rewriting extends). */
  markHandled(id: SlotId, upstream: readonly UpstreamRun[], ttlSeconds: number): Promise<void>;
}
