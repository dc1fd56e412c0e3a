import type { EventDetailType } from '../contracts/events/catalog.js';

/** One event for the `datakit` bus. */
export interface DomainEvent {
  readonly detailType: EventDetailType;
  readonly detail: Readonly<Record<string, unknown>>;
  /** ARNs or identifiers of what the event is about. */
  readonly resources?: readonly string[];
  readonly time?: Date;
}

/**
 * Publishes events at least once: resolves only when every event was accepted by the bus, throws a
 * retryable error otherwise (callers make their work idempotent, so a retry may publish twice).
 */
export interface EventPublisher {
  publish(events: readonly DomainEvent[]): Promise<void>;
}
