import { EventBridgePublisher } from '../../adapters/eventbridge/event-publisher.js';
import type { EventPublisher } from '../../ports/event-publisher.js';
import { regionOf, type SharedDependencies, traced } from './shared.js';

export interface EventDependencies {
  /** The `datakit` bus: EventBridge in AWS, the in-process bus in embedded mode. */
  readonly events: EventPublisher;
}

/** Adds the `datakit` bus: EventBridge unless `overrides.events` (the embedded bus) is given. */
export function withEvents<D extends SharedDependencies>(
  deps: D,
  overrides: { readonly events?: EventPublisher } = {},
): D & EventDependencies {
  const events = overrides.events ?? eventBridge(deps);
  // Every audit record of this function is copied to the bus too, whose archive keeps it (ADR 0018).
  return { ...deps, events, audit: deps.audit.withPublisher(events) };
}

/**
 * EventBridge, its client (and SDK module) built on the first publish: several functions wired with the
 * bus publish only on some requests, and a client built at init is most of their cold start (ADR 0012).
 */
function eventBridge(deps: SharedDependencies): EventPublisher {
  let publisher: Promise<EventBridgePublisher> | undefined;
  return {
    publish: async (events) => {
      publisher ??= import('@aws-sdk/client-eventbridge').then(
        ({ EventBridgeClient }) =>
          new EventBridgePublisher(
            traced(deps, new EventBridgeClient(regionOf(deps.config))),
            deps.config.EVENT_BUS_NAME,
          ),
      );
      await (await publisher).publish(events);
    },
  };
}
