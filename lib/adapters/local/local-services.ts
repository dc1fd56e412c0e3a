import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { canonicalJson } from '../../domain/lineage/event-id.js';
import type { LogLine } from '../../ports/run-logs.js';
import type { TaskDefinitionSpec } from '../../ports/task-control.js';
import { localTaskIdPattern } from './local-run-logs.js';
import { defaultMaxOutputBytes, OutputCapture, readOutputTail } from './output-capture.js';
import { exitCodeOf, type ProcessExit } from './process-group.js';
import { ProcessRecords } from './process-records.js';
import {
  type LaunchedTask,
  type LaunchRequest,
  TaskLauncher,
  type TaskLauncherOptions,
} from './task-launcher.js';

/** How a crashed replica is restarted: exponential delays, forgotten once a replica ran long enough. */
export interface ServiceBackoff {
  /** Delay before the first restart. @default 1000 */
  readonly initialMs: number;
  /** Longest delay. @default 60000 */
  readonly maxMs: number;
  /** A replica that ran this long before it stopped starts its backoff (and the crash count) over. @default 60000 */
  readonly stableMs: number;
}

/** Options of the supervisor of streaming Transforms. */
export interface LocalServicesOptions extends TaskLauncherOptions {
  /** Between SIGTERM and SIGKILL when a replica is stopped. @default 5000 */
  readonly stopGraceMs?: number | undefined;
  /** Bound of a service's captured output (the newest is kept). @default 8 MiB */
  readonly maxOutputBytes?: number | undefined;
  readonly backoff?: Partial<ServiceBackoff> | undefined;
  /**
   * Crashes in a row (no replica stable in between) after which the service is `failed` and no longer
   * restarted, like ECS's deployment circuit breaker. @default half the desired count, at least 3, at most 200
   */
  readonly failureThreshold?: number | undefined;
}

/** `running`: every desired replica runs; `degraded`: some are (re)starting; `failed`: the crash loop tripped. */
export type ServiceState = 'running' | 'degraded' | 'failed';

export interface ServiceStatus {
  readonly desired: number;
  readonly running: number;
  /** Replica restarts after a crash, since the service's current spec was deployed. */
  readonly restarts: number;
  readonly lastExitCode?: number | undefined;
  /** Why the last start attempt failed, when one did. */
  readonly lastError?: string | undefined;
  readonly state: ServiceState;
}

interface Replica {
  readonly index: number;
  readonly generation: number;
  readonly id: string;
  readonly request: LaunchRequest;
  /** Stopped on purpose (scaled in, replaced, removed): its exit is not a crash. */
  retired: boolean;
  crashes: number;
  launched?: LaunchedTask | undefined;
  startedAtMs?: number | undefined;
  restartTimer?: NodeJS.Timeout | undefined;
  /** The current start attempt. */
  starting: Promise<void>;
  /** Settles once the current process's exit has been handled. */
  done: Promise<void>;
}

interface Service {
  readonly key: string;
  readonly output: OutputCapture;
  spec: TaskDefinitionSpec;
  specHash: string;
  generation: number;
  desired: number;
  replicas: Replica[];
  restarts: number;
  failures: number;
  failed: boolean;
  lastExitCode?: number | undefined;
  lastError?: string | undefined;
}

const defaultBackoff: ServiceBackoff = { initialMs: 1_000, maxMs: 60_000, stableMs: 60_000 };

/**
 * Streaming Transforms in embedded mode: `replicas` supervised processes per service, what an ECS service
 * with `desiredCount` is in AWS. A crashed replica is restarted after an exponential backoff; too many
 * crashes in a row mark the service `failed` and stop the restarts (the deployment circuit breaker). A new
 * spec replaces the replicas by starting the new ones before stopping the old (none unavailable).
 */
export class LocalServices {
  private readonly launcher: TaskLauncher;
  private readonly records: ProcessRecords;
  private readonly services = new Map<string, Service>();
  /** One change at a time per service: ensure and remove calls queue. */
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly backoff: ServiceBackoff;
  private readonly graceMs: number;

  constructor(private readonly options: LocalServicesOptions) {
    this.launcher = new TaskLauncher(options);
    this.records = new ProcessRecords(join(options.dataDir, 'services'));
    this.backoff = { ...defaultBackoff, ...options.backoff };
    this.graceMs = options.stopGraceMs ?? 5_000;
  }

  /**
   * Makes the service run `replicas` processes of `spec`: starts it, scales it, or replaces its replicas
   * when the spec changed (which also clears a `failed` state). Resolves once the first start attempts are
   * made; refuses a spec this runner cannot start (`RUN_NO_LOCAL_COMMAND`, `RUN_NO_IMAGE`).
   */
  ensure(serviceKey: string, spec: TaskDefinitionSpec, replicas: number): Promise<ServiceStatus> {
    if (!localTaskIdPattern.test(serviceKey)) {
      return Promise.reject(
        new RangeError(`service key ${JSON.stringify(serviceKey)} must match ${localTaskIdPattern}`),
      );
    }
    if (!Number.isInteger(replicas) || replicas < 0) {
      return Promise.reject(new RangeError(`replicas must be a whole number >= 0, got ${replicas}`));
    }
    return this.queued(serviceKey, () => this.apply(serviceKey, spec, replicas));
  }

  /** Stops every replica of the service and forgets it; an unknown key is not an error. */
  remove(serviceKey: string): Promise<void> {
    return this.queued(serviceKey, async () => {
      const service = this.services.get(serviceKey);
      if (service === undefined) return;
      await Promise.all(service.replicas.map((replica) => this.retire(service, replica)));
      service.output.note('service removed');
      service.output.close();
      this.services.delete(serviceKey);
    });
  }

  status(serviceKey: string): ServiceStatus | undefined {
    const service = this.services.get(serviceKey);
    if (service === undefined) return undefined;
    const running = service.replicas.filter((replica) => replica.launched !== undefined).length;
    const state: ServiceState = service.failed
      ? 'failed'
      : running >= service.desired
        ? 'running'
        : 'degraded';
    return {
      desired: service.desired,
      running,
      restarts: service.restarts,
      lastExitCode: service.lastExitCode,
      lastError: service.lastError,
      state,
    };
  }

  /** The last `limit` lines the service's replicas wrote (each prefixed with its replica). */
  logs(serviceKey: string, limit: number): Promise<LogLine[]> {
    if (!localTaskIdPattern.test(serviceKey)) return Promise.resolve([]);
    return readOutputTail(this.outputFile(serviceKey), limit);
  }

  /** Ends replicas a previous control plane left running and returns their service keys (call at startup). */
  recoverOrphans(): Promise<string[]> {
    return this.records.reap({
      graceMs: this.graceMs,
      dockerCommand: this.launcher.dockerCommand,
      dockerEnvironment: this.launcher.dockerClientEnvironment(),
    });
  }

  /** Stops every service. */
  async close(): Promise<void> {
    await Promise.all([...this.services.keys()].map((key) => this.remove(key)));
  }

  private queued<T>(serviceKey: string, change: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(serviceKey) ?? Promise.resolve();
    const next = previous.then(change, change);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(serviceKey, settled);
    void settled.then(() => {
      if (this.queues.get(serviceKey) === settled) this.queues.delete(serviceKey);
    });
    return next;
  }

  private async apply(key: string, spec: TaskDefinitionSpec, replicas: number): Promise<ServiceStatus> {
    this.launcher.check(spec);
    const specHash = createHash('sha256').update(canonicalJson(spec)).digest('hex');
    let service = this.services.get(key);
    if (service === undefined) {
      service = {
        key,
        output: OutputCapture.append(
          this.outputFile(key),
          this.options.maxOutputBytes ?? defaultMaxOutputBytes,
        ),
        spec,
        specHash: '',
        generation: 0,
        desired: 0,
        replicas: [],
        restarts: 0,
        failures: 0,
        failed: false,
      };
      this.services.set(key, service);
    }
    const current = service;
    if (current.specHash !== specHash) {
      const previous = current.replicas;
      current.spec = spec;
      current.specHash = specHash;
      current.generation += 1;
      current.desired = replicas;
      current.replicas = [];
      current.restarts = 0;
      current.failures = 0;
      current.failed = false;
      current.lastError = undefined;
      current.output.note(
        `deploying ${spec.family} with ${replicas} replica(s) (generation ${current.generation})`,
      );
      await Promise.all(Array.from({ length: replicas }, (_, index) => this.addReplica(current, index)));
      await Promise.all(previous.map((replica) => this.retire(current, replica)));
    } else {
      current.desired = replicas;
      const surplus = current.replicas.splice(replicas);
      const added: Promise<void>[] = [];
      if (!current.failed) {
        for (let index = current.replicas.length; index < replicas; index += 1)
          added.push(this.addReplica(current, index));
      }
      await Promise.all([...added, ...surplus.map((replica) => this.retire(current, replica))]);
    }
    const status = this.status(key);
    if (status === undefined) throw new Error(`service ${key} vanished while it was changed`);
    return status;
  }

  private addReplica(service: Service, index: number): Promise<void> {
    const id = `${service.key}.${service.generation}.${index}`;
    const replica: Replica = {
      index,
      generation: service.generation,
      id,
      request: {
        spec: service.spec,
        overrides: [],
        directory: join(this.options.dataDir, 'services', service.key, `${service.generation}-${index}`),
        containerName: `dk-svc-${id}`,
        labels: { 'datakit.service': service.key },
        output: service.output,
        outputPrefix: `[replica ${index}] `,
      },
      retired: false,
      crashes: 0,
      starting: Promise.resolve(),
      done: Promise.resolve(),
    };
    service.replicas.push(replica);
    replica.starting = this.start(service, replica);
    return replica.starting;
  }

  private async start(service: Service, replica: Replica): Promise<void> {
    let launched: LaunchedTask;
    try {
      const prepared = await this.launcher.prepare(replica.request);
      if (replica.retired) {
        await this.launcher.cleanUp(replica.request);
        return;
      }
      launched = await this.launcher.start(prepared);
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      service.lastError = message;
      service.output.note(`replica ${replica.index} could not start: ${message}`);
      await this.launcher.cleanUp(replica.request);
      this.crashed(service, replica);
      return;
    }
    replica.launched = launched;
    replica.startedAtMs = Date.now();
    service.output.note(
      `replica ${replica.index} of generation ${replica.generation} started (pid ${launched.pid})`,
    );
    await this.records.write(replica.id, {
      owner: service.key,
      pid: launched.pid,
      pgid: launched.pid,
      ...(launched.startTime === undefined ? {} : { startTime: launched.startTime }),
      startedAt: new Date(replica.startedAtMs).toISOString(),
      runner: launched.runner,
      ...(launched.containerName === undefined ? {} : { container: launched.containerName }),
    });
    replica.done = launched.exited.then((exit) => this.exited(service, replica, exit));
    if (replica.retired) await launched.stop(this.graceMs);
  }

  private async exited(service: Service, replica: Replica, exit: ProcessExit): Promise<void> {
    replica.launched = undefined;
    await this.records.remove(replica.id);
    await this.launcher.cleanUp(replica.request);
    if (replica.retired) return;
    const code = exitCodeOf(exit);
    service.lastExitCode = code;
    service.output.note(`replica ${replica.index} exited with code ${code}`);
    this.crashed(service, replica);
  }

  /** Counts a crash and schedules the restart, unless the crash loop trips the circuit breaker. */
  private crashed(service: Service, replica: Replica): void {
    if (replica.retired) return;
    const uptime = replica.startedAtMs === undefined ? 0 : Date.now() - replica.startedAtMs;
    if (uptime >= this.backoff.stableMs) {
      replica.crashes = 0;
      service.failures = 0;
    }
    replica.crashes += 1;
    service.failures += 1;
    const threshold =
      this.options.failureThreshold ?? Math.min(200, Math.max(3, Math.ceil(service.desired / 2)));
    if (service.failures >= threshold) {
      service.failed = true;
      service.output.note(
        `${service.failures} crashes in a row: the service is failed and no longer restarted`,
      );
      return;
    }
    const delay = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** (replica.crashes - 1));
    service.output.note(`restarting replica ${replica.index} in ${delay} ms`);
    replica.restartTimer = setTimeout(() => {
      replica.restartTimer = undefined;
      if (replica.retired || service.failed) return;
      service.restarts += 1;
      replica.starting = this.start(service, replica).catch((error: unknown) => {
        service.lastError = error instanceof Error ? error.message : String(error);
      });
    }, delay);
  }

  /** Stops a replica on purpose and waits until its process is gone and cleaned up. */
  private async retire(service: Service, replica: Replica): Promise<void> {
    replica.retired = true;
    clearTimeout(replica.restartTimer);
    await replica.starting;
    const launched = replica.launched;
    if (launched !== undefined) {
      await launched.stop(this.graceMs);
      service.output.note(
        `replica ${replica.index} of generation ${replica.generation} stopped (pid ${launched.pid})`,
      );
    }
    await replica.done;
  }

  private outputFile(serviceKey: string): string {
    return join(this.options.dataDir, 'services', `${serviceKey}.log`);
  }
}
