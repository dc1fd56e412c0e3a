import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SlotId, StoredSlot, TriggerSlot, UpstreamRun } from '../../../lib/domain/triggers/model.js';
import type { TriggerStore } from '../../../lib/ports/trigger-store.js';
import { MemoryTriggerStore, runTriggerModel, scenarioArbitrary } from '../../support/trigger-model.js';

/** `TRIGGER_MODEL_RUNS=20000 npx vitest run …` searches longer (the default keeps `npm test` quick). */
const numRuns = Number(process.env.TRIGGER_MODEL_RUNS ?? 300);
const timeout = Math.max(60_000, numRuns * 50);

describe('the trigger resolver against its model', () => {
  it(
    'runs each consumer once per upstream run, coalesces, cuts cycles and pauses, whatever the interleaving',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.scheduler(), scenarioArbitrary, async (s, scenario) => {
          const outcome = await runTriggerModel(s, scenario, (clock) => new MemoryTriggerStore(clock));
          expect(outcome.violations).toEqual([]);
        }),
        { numRuns },
      );
    },
    timeout,
  );

  it('has teeth: a store that ignores the revision condition is caught running a consumer twice at once', async () => {
    expect(await violationsWith((clock) => new LastWriterWins(clock))).toMatch(/taken twice|is in flight/);
  }, 60_000);

  it('has teeth: a store that forgets handled keys is caught taking upstream runs twice', async () => {
    expect(await violationsWith((clock) => new ForgetfulKeys(clock))).toMatch(/taken twice/);
  }, 60_000);
});

/** The violations of the smallest failing scenario fast-check finds with this store (none: ''). */
async function violationsWith(makeStore: (clock: () => Date) => TriggerStore): Promise<string> {
  let found: readonly string[] = [];
  const result = await fc.check(
    fc.asyncProperty(fc.scheduler(), scenarioArbitrary, async (s, scenario) => {
      const outcome = await runTriggerModel(s, scenario, makeStore);
      if (outcome.violations.length > 0) found = outcome.violations;
      return outcome.violations.length === 0;
    }),
    { numRuns: 300, seed: 42 },
  );
  return result.failed ? found.join('\n') : '';
}

/** A broken store: every put wins, as if the write had no condition. */
class LastWriterWins implements TriggerStore {
  private readonly inner: MemoryTriggerStore;
  constructor(clock: () => Date) {
    this.inner = new MemoryTriggerStore(clock);
  }
  getSlot(id: SlotId): Promise<StoredSlot | undefined> {
    return this.inner.getSlot(id);
  }
  async putSlot(id: SlotId, slot: TriggerSlot): Promise<boolean> {
    const current = await this.inner.getSlot(id);
    return this.inner.putSlot(id, slot, current?.revision ?? 0);
  }
  isHandled(id: SlotId, runId: string): Promise<boolean> {
    return this.inner.isHandled(id, runId);
  }
  markHandled(id: SlotId, upstream: readonly UpstreamRun[], ttl: number): Promise<void> {
    return this.inner.markHandled(id, upstream, ttl);
  }
}

/** A broken store: handled keys are never kept (as if they expired at once). */
class ForgetfulKeys extends MemoryTriggerStore {
  override async markHandled(): Promise<void> {}
}
