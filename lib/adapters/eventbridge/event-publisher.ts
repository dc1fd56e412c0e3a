import type {
  EventBridgeClient,
  PutEventsRequestEntry,
  PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { eventSource, maxEventEntryBytes } from '../../contracts/events/catalog.js';
import { DependencyUnavailableError } from '../../domain/errors.js';
import type { DomainEvent, EventPublisher } from '../../ports/event-publisher.js';

/** The SDK module on first use: a bundle's static SDK imports all load at init (ADR 0012). */
const sdk = () => import('@aws-sdk/client-eventbridge');

const maxEntriesPerRequest = 10;
const maxAttempts = 5;

/** The client surface this adapter needs, so tests can supply a stand-in (EventBridge has no local one). */
export type PutEventsClient = Pick<EventBridgeClient, 'send'>;

/**
 * Publishes to the `datakit` bus with PutEvents: batches of ten, and entries EventBridge reports as
 * failed (throttling, internal errors) are retried with backoff until every one is accepted.
 */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: PutEventsClient,
    private readonly eventBusName: string,
  ) {}

  async publish(events: readonly DomainEvent[]): Promise<void> {
    const entries = events.map((event) => this.toEntry(event));
    for (let start = 0; start < entries.length; start += maxEntriesPerRequest) {
      await this.putAll(entries.slice(start, start + maxEntriesPerRequest));
    }
  }

  private async putAll(batch: PutEventsRequestEntry[]): Promise<void> {
    const { PutEventsCommand } = await sdk();
    let pending = batch;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const output = await this.client.send(new PutEventsCommand({ Entries: pending }));
      const results: PutEventsResultEntry[] = output.Entries ?? [];
      const failed = pending.filter((_, index) => results[index]?.ErrorCode !== undefined);
      if (failed.length === 0) return;
      if (attempt >= maxAttempts) {
        const codes = [
          ...new Set(results.map((result) => result.ErrorCode).filter((code) => code !== undefined)),
        ];
        throw new DependencyUnavailableError(
          'EVENTS_UNAVAILABLE',
          'The event bus did not accept every event.',
          {
            cause: new Error(`PutEvents failed entries: ${codes.join(', ')}`),
          },
        );
      }
      pending = failed;
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** attempt)));
    }
  }

  private toEntry(event: DomainEvent): PutEventsRequestEntry {
    const entry: PutEventsRequestEntry = {
      EventBusName: this.eventBusName,
      Source: eventSource,
      DetailType: event.detailType,
      Detail: JSON.stringify(event.detail),
      ...(event.resources === undefined ? {} : { Resources: [...event.resources] }),
      ...(event.time === undefined ? {} : { Time: event.time }),
    };
    const size = Buffer.byteLength(JSON.stringify(entry));
    if (size > maxEventEntryBytes) {
      throw new Error(`event ${event.detailType} is ${size} bytes, over EventBridge's ${maxEventEntryBytes}`);
    }
    return entry;
  }
}
