import { describe, expect, it } from 'vitest';
import { mapBounded } from '../../../lib/domain/concurrency.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('mapBounded', () => {
  it('keeps the order of the items and never has more than the limit in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const results = await mapBounded([5, 1, 4, 2, 3, 0, 6], 3, async (item) => {
      inFlight++;
      most = Math.max(most, inFlight);
      for (let i = 0; i < item; i++) await tick();
      inFlight--;
      return item * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30, 0, 60]);
    expect(most).toBe(3);
  });

  it('rejects with the first failure only after the calls in flight settle, and starts no more', async () => {
    const started: number[] = [];
    const settled: number[] = [];
    const outcome = mapBounded([0, 1, 2, 3, 4, 5], 2, async (item) => {
      started.push(item);
      await tick();
      if (item === 1) throw new Error('item 1 failed');
      await tick();
      settled.push(item);
      return item;
    });
    await expect(outcome).rejects.toThrow('item 1 failed');
    expect(started).toEqual([0, 1]);
    expect(settled).toEqual([0]);
  });

  it('maps nothing to nothing and refuses a limit that is not a positive integer', async () => {
    expect(await mapBounded([], 4, async () => 1)).toEqual([]);
    await expect(mapBounded([1], 0, async () => 1)).rejects.toThrow('positive integer');
  });
});
