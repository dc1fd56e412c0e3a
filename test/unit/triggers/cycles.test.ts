import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CellDataSet,
  findTriggerCycle,
  type OnChangeConsumer,
} from '../../../lib/domain/triggers/cycles.js';

const ds = (name: string, cell = 'local'): CellDataSet => ({ cell, namespace: 'ns', name });

/** A directory of deployed on-change consumers: consumer → reads, writes. */
function readersOf(graph: Record<string, { reads: string[]; writes: string[] }>) {
  return async (dataSet: CellDataSet): Promise<OnChangeConsumer[]> =>
    Object.entries(graph)
      .filter(([, edges]) => edges.reads.includes(dataSet.name))
      .map(([name, edges]) => ({ namespace: 'ns', name, outputs: edges.writes.map((write) => ds(write)) }));
}

describe('on-change cycles at deploy time', () => {
  it('finds the shortest path a new on-change Transform would close', async () => {
    const readers = readersOf({
      enrich: { reads: ['b'], writes: ['c'] },
      aggregate: { reads: ['c'], writes: ['a'] },
    });
    const cycle = await findTriggerCycle(
      { namespace: 'ns', name: 'ingest', inputs: [ds('a')], outputs: [ds('b')] },
      readers,
    );
    expect(cycle).toEqual([
      'package:ns/ingest',
      'dataset:ns/b@local',
      'package:ns/enrich',
      'dataset:ns/c@local',
      'package:ns/aggregate',
      'dataset:ns/a@local',
      'package:ns/ingest',
    ]);
  });

  it('sees a Transform reading its own output as a cycle', async () => {
    const cycle = await findTriggerCycle(
      { namespace: 'ns', name: 'loop', inputs: [ds('x')], outputs: [ds('x')] },
      readersOf({}),
    );
    expect(cycle).toEqual(['package:ns/loop', 'dataset:ns/x@local', 'package:ns/loop']);
  });

  it("does not see a cycle through another cell, nor through the Transform's own older version", async () => {
    const readers = readersOf({ ingest: { reads: ['b'], writes: ['a'] } });
    expect(
      await findTriggerCycle(
        { namespace: 'ns', name: 'ingest', inputs: [ds('a')], outputs: [ds('b')] },
        readers,
      ),
    ).toBeUndefined();
    expect(
      await findTriggerCycle(
        { namespace: 'ns', name: 'x', inputs: [ds('a', 'blue')], outputs: [ds('a', 'green')] },
        readersOf({}),
      ),
    ).toBeUndefined();
  });

  it('agrees with reachability on random graphs', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.subarray(['a', 'b', 'c', 'd', 'e']), fc.subarray(['a', 'b', 'c', 'd', 'e'])), {
          maxLength: 6,
        }),
        fc.subarray(['a', 'b', 'c', 'd', 'e'], { minLength: 1 }),
        fc.subarray(['a', 'b', 'c', 'd', 'e'], { minLength: 1 }),
        async (consumers, inputs, outputs) => {
          const graph = Object.fromEntries(
            consumers.map(([reads, writes], index) => [`t${index}`, { reads, writes }]),
          );
          // Independent answer: the closure of datasets reachable from the outputs.
          const reached = new Set(outputs);
          for (let changed = true; changed; ) {
            changed = false;
            for (const { reads, writes } of Object.values(graph)) {
              if (!reads.some((read) => reached.has(read))) continue;
              for (const write of writes) {
                if (reached.has(write)) continue;
                reached.add(write);
                changed = true;
              }
            }
          }
          const expected = inputs.some((input) => reached.has(input));
          const cycle = await findTriggerCycle(
            {
              namespace: 'ns',
              name: 'new',
              inputs: inputs.map((name) => ds(name)),
              outputs: outputs.map((name) => ds(name)),
            },
            readersOf(graph),
          );
          expect(cycle !== undefined).toBe(expected);
        },
      ),
    );
  });
});
