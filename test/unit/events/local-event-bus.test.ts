import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { type BusEnvelope, LocalEventBus } from '../../../lib/adapters/local/event-bus.js';

const logger = new Logger({ logLevel: 'SILENT' });

describe('LocalEventBus', () => {
  it('delivers EventBridge envelopes to the targets of matching rules only', async () => {
    const bus = new LocalEventBus(logger);
    const received: BusEnvelope[] = [];
    bus.addRule('updates', { 'detail-type': ['DataSet Updated'] }, async (event) => {
      received.push(event);
    });
    await bus.publish([
      { detailType: 'DataSet Updated', detail: { name: 'a' } },
      { detailType: 'Run Failed', detail: { runId: 'r' } },
    ]);
    await bus.drain();
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      source: 'datakit.control-plane',
      'detail-type': 'DataSet Updated',
      detail: { name: 'a' },
    });
    expect(bus.events().map((event) => event['detail-type'])).toEqual(['DataSet Updated', 'Run Failed']);
  });

  it('retries a failing target', async () => {
    const bus = new LocalEventBus(logger);
    let attempts = 0;
    bus.addRule('flaky', { source: ['datakit.control-plane'] }, async () => {
      attempts++;
      if (attempts < 3) throw new Error('transient');
    });
    await bus.publish([{ detailType: 'Run Started', detail: {} }]);
    await bus.drain();
    expect(attempts).toBe(3);
  });

  it('keeps only the most recent events', async () => {
    const bus = new LocalEventBus(logger, 2);
    await bus.publish([1, 2, 3].map((index) => ({ detailType: 'Run Started' as const, detail: { index } })));
    expect(bus.events().map((event) => event.detail.index)).toEqual([2, 3]);
  });
});
