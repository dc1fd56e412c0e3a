import * as z from 'zod';
import { ConcurrentModificationError } from '../../domain/errors.js';
import type { SlotId, StoredSlot, TriggerSlot, UpstreamRun } from '../../domain/triggers/model.js';
import type { TriggerStore } from '../../ports/trigger-store.js';
import { keys } from './keys.js';
import type { SingleTable } from './single-table.js';

const upstreamRunSchema = z.object({
  dataset: z.object({ namespace: z.string(), name: z.string() }),
  runId: z.string(),
});
const windowSchema = z.object({
  upstream: z.array(upstreamRunSchema),
  overflow: z.number().int().nonnegative(),
  chain: z.array(z.string()),
});
const slotItemSchema = z.object({
  inFlight: windowSchema.extend({ runId: z.string() }).optional(),
  pending: windowSchema.optional(),
  consecutiveFailures: z.number().int().nonnegative(),
  paused: z.boolean(),
  pausedAt: z.string().optional(),
  pausedBy: z.string().optional(),
  resumedBy: z.string().optional(),
  lastEnded: z.string().optional(),
  revision: z.number().int().positive(),
});

/**
 * Trigger slots (`TRIGSLOT#{cell}#{env}#{ns}#{name}` / `#SLOT`, optimistic locking on `revision`) and
 * handled keys (`IDEMP#trigger#{sha256}` / `#IDEMP` with `expiresAt`; expired keys are filtered on read
 * because DynamoDB deletes them lazily).
 */
export class DynamoTriggerStore implements TriggerStore {
  constructor(
    private readonly table: SingleTable,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async getSlot(id: SlotId): Promise<StoredSlot | undefined> {
    const item = await this.table.get(keys.triggerSlot(id.cell, id.env, id.namespace, id.name));
    if (item === undefined) return undefined;
    const { revision, ...slot } = slotItemSchema.parse(item);
    return { slot, revision };
  }

  async putSlot(id: SlotId, slot: TriggerSlot, expectedRevision: number): Promise<boolean> {
    try {
      await this.table.putWithRevision(
        {
          ...keys.triggerSlot(id.cell, id.env, id.namespace, id.name),
          cell: id.cell,
          env: id.env,
          namespace: id.namespace,
          name: id.name,
          ...slot,
          updatedAt: this.clock().toISOString(),
        },
        expectedRevision,
      );
      return true;
    } catch (error) {
      if (error instanceof ConcurrentModificationError) return false;
      throw error;
    }
  }

  async isHandled(id: SlotId, upstreamRunId: string): Promise<boolean> {
    const key = keys.triggerHandled(id.cell, id.env, id.namespace, id.name, upstreamRunId);
    return (await this.table.get(key)) !== undefined;
  }

  async markHandled(id: SlotId, upstream: readonly UpstreamRun[], ttlSeconds: number): Promise<void> {
    const expiresAt = Math.floor(this.clock().getTime() / 1000) + ttlSeconds;
    const unique = new Map(upstream.map((u) => [u.runId, u]));
    // Plain puts, not putIfAbsent: a key that expired but is not deleted yet must be written again, and
    // every writer writes the same meaning, so the last one only extends the expiry.
    await this.table.batchPut(
      [...unique.values()].map((u) => ({
        ...keys.triggerHandled(id.cell, id.env, id.namespace, id.name, u.runId),
        upstreamRunId: u.runId,
        dataset: u.dataset,
        consumer: `${id.namespace}/${id.name}`,
        env: id.env,
        cell: id.cell,
        expiresAt,
      })),
    );
  }
}
