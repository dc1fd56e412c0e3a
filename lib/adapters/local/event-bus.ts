import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { eventSource } from '../../contracts/events/catalog.js';
import type { DomainEvent, EventPublisher } from '../../ports/event-publisher.js';
import { type EventPattern, matchesPattern } from './event-pattern.js';

/** An event as EventBridge delivers it to a rule target. */
export interface BusEnvelope {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: Readonly<Record<string, unknown>>;
}

export type BusTarget = (event: BusEnvelope) => Promise<void>;

interface Rule {
  readonly name: string;
  readonly pattern: EventPattern;
  readonly target: BusTarget;
}

/**
 * The embedded stand-in for the `datakit` EventBridge bus: rules with the same patterns as the stacks
 * deploy, targets invoked asynchronously after publish returns (as EventBridge does), with retries.
 * Keeps the most recent events for inspection.
 */
export class LocalEventBus implements EventPublisher {
  private readonly rules: Rule[] = [];
  private readonly recent: BusEnvelope[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly logger: Logger,
    private readonly retention = 1000,
  ) {}

  /** Adds a rule: the target receives every later event matching the pattern. */
  addRule(name: string, pattern: EventPattern, target: BusTarget): void {
    this.rules.push({ name, pattern, target });
  }

  async publish(events: readonly DomainEvent[]): Promise<void> {
    for (const event of events) {
      const envelope: BusEnvelope = {
        version: '0',
        id: randomUUID(),
        'detail-type': event.detailType,
        source: eventSource,
        account: '000000000000',
        time: (event.time ?? new Date()).toISOString(),
        region: 'local',
        resources: [...(event.resources ?? [])],
        detail: event.detail,
      };
      this.recent.push(envelope);
      if (this.recent.length > this.retention) this.recent.shift();
      for (const rule of this.rules) {
        if (matchesPattern(envelope, rule.pattern)) this.deliver(rule, envelope);
      }
    }
  }

  /** The most recent events, oldest first. */
  events(): readonly BusEnvelope[] {
    return [...this.recent];
  }

  /** Resolves once every delivery started so far has finished (tests, shutdown). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private deliver(rule: Rule, envelope: BusEnvelope): void {
    const delivery = (async () => {
      for (let attempt = 1; attempt <= 3; attempt++) {
        try {
          await rule.target(envelope);
          return;
        } catch (error) {
          this.logger.warn('event delivery failed', { rule: rule.name, attempt, id: envelope.id, error });
          await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
        }
      }
      this.logger.error('event dropped after retries', { rule: rule.name, id: envelope.id });
    })();
    this.inFlight.add(delivery);
    void delivery.finally(() => this.inFlight.delete(delivery));
  }
}
