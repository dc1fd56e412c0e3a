import type { BlobStore } from '../ports/blob-store.js';
import type { EventPublisher } from '../ports/event-publisher.js';
import type { Config } from './config.js';
import { type EventDependencies, withEvents } from './wiring/events.js';
import { type GovernanceDependencies, withGovernance } from './wiring/governance.js';
import { type LineageDependencies, withLineage } from './wiring/lineage.js';
import { type PackageDependencies, withPackages } from './wiring/packages.js';
import {
  type RegistrationDependencies,
  type RegistrationOverrides,
  withRegistration,
} from './wiring/registration.js';
import { createSharedDependencies, type SharedDependencies, type SharedOverrides } from './wiring/shared.js';

export type { EventDependencies } from './wiring/events.js';
export type { GovernanceDependencies } from './wiring/governance.js';
export type { LineageDependencies } from './wiring/lineage.js';
export type { PackageDependencies } from './wiring/packages.js';
export type { RegistrationDependencies } from './wiring/registration.js';
export type { SharedDependencies } from './wiring/shared.js';

/**
 * Everything the handlers need, built once per process: the composition root of the embedded mode and
 * the tests. Each capability is wired by its own module under `wiring/`, so a Lambda function composes
 * (and bundles, and loads) only the adapters it uses (`lambdaDependencies`).
 */
export interface Dependencies
  extends SharedDependencies,
    EventDependencies,
    PackageDependencies,
    LineageDependencies,
    RegistrationDependencies,
    GovernanceDependencies {}

/** Adapters the embedded mode (or a test) supplies instead of the AWS ones. */
export interface DependencyOverrides extends SharedOverrides, RegistrationOverrides {
  readonly events?: EventPublisher;
  /** Where raw lineage events too large for an item go (tests: a temporary directory). */
  readonly blobs?: BlobStore;
}

/** Wires every adapter for a configuration; AWS and the embedded mode differ only in the config. */
export function createDependencies(config: Config, overrides: DependencyOverrides = {}): Dependencies {
  const withBus = withEvents(createSharedDependencies(config, overrides), overrides);
  return withGovernance(withRegistration(withLineage(withPackages(withBus), overrides), overrides));
}
