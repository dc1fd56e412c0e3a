import {
  PutEventsCommand,
  type PutEventsCommandOutput,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import {
  EventBridgePublisher,
  type PutEventsClient,
} from '../../../lib/adapters/eventbridge/event-publisher.js';
import { DependencyUnavailableError } from '../../../lib/domain/errors.js';
import type { DomainEvent } from '../../../lib/ports/event-publisher.js';

/** EventBridge has no local stand-in: this records PutEvents calls and answers with scripted failures. */
class RecordingEventBridge {
  readonly calls: { Entries: PutEventsRequestEntry[] }[] = [];
  constructor(private readonly failFirst: (call: number, index: number) => boolean = () => false) {}

  readonly send: PutEventsClient['send'] = async (command: unknown) => {
    if (!(command instanceof PutEventsCommand)) throw new Error('unexpected command');
    const entries = command.input.Entries ?? [];
    const call = this.calls.length;
    this.calls.push({ Entries: entries });
    const output: Partial<PutEventsCommandOutput> = {
      Entries: entries.map((_, index) =>
        this.failFirst(call, index)
          ? { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }
          : { EventId: `e-${call}-${index}` },
      ),
    };
    return output as PutEventsCommandOutput;
  };
}

const events = (count: number): DomainEvent[] =>
  Array.from({ length: count }, (_, index) => ({ detailType: 'DataSet Updated', detail: { index } }));

describe('EventBridgePublisher', () => {
  it('sends batches of at most ten entries to the datakit bus with our source', async () => {
    const bridge = new RecordingEventBridge();
    await new EventBridgePublisher(bridge, 'dev-datakit').publish(events(23));
    expect(bridge.calls.map((call) => call.Entries.length)).toEqual([10, 10, 3]);
    expect(bridge.calls[0]?.Entries[0]).toMatchObject({
      EventBusName: 'dev-datakit',
      Source: 'datakit.control-plane',
      DetailType: 'DataSet Updated',
      Detail: '{"index":0}',
    });
  });

  it('retries only the entries EventBridge reported as failed', async () => {
    const bridge = new RecordingEventBridge((call, index) => call === 0 && index % 2 === 0);
    await new EventBridgePublisher(bridge, 'bus').publish(events(4));
    expect(bridge.calls).toHaveLength(2);
    expect(bridge.calls[1]?.Entries.map((entry) => entry.Detail)).toEqual(['{"index":0}', '{"index":2}']);
  });

  it('gives up with a retryable error when entries keep failing', async () => {
    const bridge = new RecordingEventBridge(() => true);
    await expect(new EventBridgePublisher(bridge, 'bus').publish(events(1))).rejects.toBeInstanceOf(
      DependencyUnavailableError,
    );
    expect(bridge.calls).toHaveLength(5);
  });

  it('refuses an event over EventBridge’s entry size limit before sending anything', async () => {
    const bridge = new RecordingEventBridge();
    const huge: DomainEvent = { detailType: 'DataSet Updated', detail: { blob: 'x'.repeat(300 * 1024) } };
    await expect(new EventBridgePublisher(bridge, 'bus').publish([huge])).rejects.toThrow(/over EventBridge/);
    expect(bridge.calls).toHaveLength(0);
  });
});
