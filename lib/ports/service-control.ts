import type { CellRuntime } from '../contracts/api/cells.js';
import type { TaskDefinitionSpec } from './task-control.js';

/** A streaming deployment's service: one per package × environment in a cell. */
export interface ServiceKey {
  readonly env: string;
  readonly cell: string;
  readonly namespace: string;
  readonly name: string;
}

/**
 * Long-running (streaming) Transforms (ADR 0006): `replicas` copies of a task definition kept running,
 * replaced one version after another. ECS services with a deployment circuit breaker in AWS; supervised
 * processes restarted with backoff in embedded mode.
 */
export interface ServiceControl {
  /** Runs `replicas` copies of the task definition (registered as `taskDefinition`), creating or updating. */
  ensureService(
    runtime: CellRuntime,
    key: ServiceKey,
    service: {
      readonly taskDefinition: string;
      readonly spec: TaskDefinitionSpec;
      readonly replicas: number;
    },
  ): Promise<void>;
  /** Stops and removes the service (nothing when there is none). */
  removeService(runtime: CellRuntime, key: ServiceKey): Promise<void>;
  /** Replicas desired and running, when the service exists. */
  serviceStatus(
    runtime: CellRuntime,
    key: ServiceKey,
  ): Promise<{ readonly desired: number; readonly running: number } | undefined>;
}

/** `{env}.{cell}.{ns}.{name}`, with what a service name cannot hold replaced: a stable, readable name. */
export function serviceName(key: ServiceKey): string {
  return `dk.${key.env}.${key.cell}.${key.namespace}.${key.name}`
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .slice(0, 128);
}
