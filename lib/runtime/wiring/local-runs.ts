import { join } from 'node:path';
import { DynamoRunStore } from '../../adapters/dynamodb/run-store.js';
import { EnvironmentSecretStore } from '../../adapters/local/env-secret-store.js';
import type { LocalEventBus } from '../../adapters/local/event-bus.js';
import { InProcessScheduler } from '../../adapters/local/in-process-scheduler.js';
import {
  LocalPromotionPipeline,
  localPipelinePrefix,
} from '../../adapters/local/local-promotion-pipeline.js';
import { LocalRunLogs } from '../../adapters/local/local-run-logs.js';
import { LocalServiceControl } from '../../adapters/local/local-service-control.js';
import { LocalServices } from '../../adapters/local/local-services.js';
import { LocalTasks } from '../../adapters/local/local-tasks.js';
import { LocalWorkflows } from '../../adapters/local/local-workflows.js';
import { triggerEventPattern } from '../../contracts/events/trigger-rule.js';
import { environmentsOf } from '../../domain/promotions/environments.js';
import { fetchContentLayer as fetchContent } from '../../domain/registry/artifact.js';
import type { RunStep } from '../../domain/runs/run-steps.js';
import { scheduleOf } from '../../domain/triggers/schedule.js';
import type { TaskPackage } from '../../ports/task-control.js';
import type { RegistrationDependencies } from './registration.js';
import { createRunPlane, type RunPlane, type RunPlaneDependencies } from './runs.js';

/** The largest compressed content layer the local runner fetches (registration's own cap). */
const maxContentLayerBytes = 16 * 1024 * 1024;

export interface LocalRuntimeOptions {
  /** The in-process bus: the trigger resolver subscribes to it as the stacks' rule does in AWS. */
  readonly bus?: LocalEventBus | undefined;
  /** Where packages are unpacked and run output is kept (`{dataDir}/runtime`). */
  readonly dataDir: string;
  readonly runner: 'subprocess' | 'docker';
  /** This control plane's URL, once it listens: Transforms report their lineage there. */
  readonly lineageUrl: () => string;
  /** Where `${VAR}` Store secrets come from. @default process.env */
  readonly environment?: Readonly<Record<string, string | undefined>>;
  /** How often promotions whose approvals timed out are marked EXPIRED (reads check too). @default 60 s */
  readonly expirySweepMs?: number;
}

export interface LocalRuntime {
  readonly plane: RunPlane;
  /** The in-process promotion pipeline (Guard and Deploy after the last approval). */
  readonly pipeline: LocalPromotionPipeline;
  /** Stops every running task (their runs end FAILED), waits for their executions and promotion stages. */
  close(): Promise<void>;
}

/**
 * The embedded mode's runs: the run state machine executed in process, its ECS task replaced by the
 * local runner, Store secrets from this process's environment (ADR 0006). At start, the local cell
 * exists and every run a previous process left unfinished is marked FAILED `RUN_ORPHANED`, its
 * processes stopped.
 */
export async function startLocalRuntime(
  deps: RunPlaneDependencies & RegistrationDependencies,
  options: LocalRuntimeOptions,
): Promise<LocalRuntime> {
  const runtimeDir = join(options.dataDir, 'runtime');
  const secrets = new EnvironmentSecretStore(options.environment ?? process.env);
  const fetchContentLayer = async (pkg: TaskPackage): Promise<Buffer> => {
    const layer = await fetchContent(deps.artifacts, `${pkg.repository}@${pkg.digest}`, maxContentLayerBytes);
    if (layer === undefined) {
      throw Object.assign(
        new Error(`${pkg.namespace}/${pkg.name}@${pkg.version} has no content layer to run`),
        {
          name: 'RUN_NO_CONTENT_LAYER',
        },
      );
    }
    return layer;
  };
  const tasks = new LocalTasks({
    dataDir: runtimeDir,
    runner: options.runner,
    resolveSecret: (handle) => secrets.resolveHandle(handle),
    fetchContentLayer,
  });
  const services = new LocalServices({
    dataDir: runtimeDir,
    runner: options.runner,
    resolveSecret: (handle) => secrets.resolveHandle(handle),
    fetchContentLayer,
  });
  let runStep: RunStep | undefined;
  let plane: RunPlane | undefined;
  const scheduler = new InProcessScheduler(
    async (tick) => {
      if (plane === undefined) throw new Error('the run plane is not ready');
      return plane.triggerEvents.onScheduleTick(tick);
    },
    { onError: (error, tick) => deps.logger.error('schedule tick failed', { error, tick }) },
  );
  const workflows = new LocalWorkflows(
    {
      step: (payload) => {
        if (runStep === undefined) throw new Error('the run plane is not ready');
        return runStep(payload);
      },
      runTask: (parameters, signal) => tasks.run(parameters, signal),
    },
    deps.logger,
  );
  const pipeline = new LocalPromotionPipeline(deps.logger);
  plane = createRunPlane(deps, {
    workflows,
    services: new LocalServiceControl(services),
    schedules: {
      put: async (id, spec) => scheduler.put(id, spec),
      delete: async (id) => scheduler.delete(id),
    },
    tasks,
    secrets,
    logs: new LocalRunLogs(runtimeDir),
    cellMode: 'embedded',
    environments: environmentsOf(deps.config.ENVIRONMENTS),
    pipeline,
    lineageUrl: options.lineageUrl,
  });
  runStep = plane.runSteps;
  const ready = plane;
  if (options.bus !== undefined) {
    options.bus.addRule('datakit-triggers', triggerEventPattern, async (event) => {
      await ready.triggerEvents.onEvent({ 'detail-type': event['detail-type'], detail: { ...event.detail } });
    });
  }
  pipeline.bind(ready.promotions.stages);

  // Housekeeping of a previous process's leftovers. A storage fault must not stop the control plane from
  // starting (it answers 503 for what it cannot read, docs/operations.md), so a failure here is logged.
  try {
    await prepareLocalCells(deps, ready, tasks);
    await services.recoverOrphans();
    await restoreDeployments(deps, ready, scheduler, environmentsOf(deps.config.ENVIRONMENTS).names());
  } catch (error) {
    deps.logger.error('local runtime housekeeping failed; orphaned runs stay as they are', { error });
  }
  try {
    await resumePromotions(ready, pipeline);
  } catch (error) {
    deps.logger.error('promotion housekeeping failed; promotions stay as they are', { error });
  }
  // Approvals that time out while nobody reads the promotion still end it (reads check as well).
  const sweep = setInterval(() => {
    ready.promotions.expireDue().catch((error: unknown) => {
      deps.logger.warn('promotion expiry sweep failed', { error });
    });
  }, options.expirySweepMs ?? 60_000);
  sweep.unref();

  return {
    plane: ready,
    pipeline,
    close: async () => {
      clearInterval(sweep);
      scheduler.stop();
      await services.close();
      await tasks.close();
      await workflows.drain();
      await pipeline.drain();
    },
  };
}

/**
 * Picks up what a previous process left of the in-process promotion pipelines: promotions whose approvals
 * were complete (DEPLOYING) go on to Guard and Deploy, and timed-out approvals end EXPIRED.
 */
async function resumePromotions(plane: RunPlane, pipeline: LocalPromotionPipeline): Promise<void> {
  let cursor: string | undefined;
  do {
    const page = await plane.promotions.list({ status: 'DEPLOYING', limit: 100, cursor });
    for (const promotion of page.items) {
      // Local pipelines, and inline deploys (no approvals) the previous process stopped in the middle of.
      const local = promotion.pipeline?.name.startsWith(localPipelinePrefix) ?? true;
      if (local) pipeline.continue(promotion.id);
    }
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  await plane.promotions.expireDue();
}

/** Makes sure the `local` cell exists and marks runs a previous process lost as FAILED `RUN_ORPHANED`. */
async function prepareLocalCells(
  deps: RunPlaneDependencies,
  plane: RunPlane,
  tasks: LocalTasks,
): Promise<void> {
  await plane.cells.ensureLocalCell();
  const stopped = await tasks.recoverOrphans();
  const cells = [];
  let cursor: string | undefined;
  do {
    const page = await plane.cells.listCells({ limit: 100, cursor });
    cells.push(...page.items.filter((cell) => cell.runtime.kind === 'local').map((cell) => cell.name));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  const lost = await new DynamoRunStore(deps.table, deps.clock, deps.config.RUN_RETENTION_DAYS).listLiveRuns(
    cells,
  );
  if (lost.length > 0) {
    await plane.runs.markOrphaned(lost.map((run) => run.runId));
    deps.logger.warn('runs lost by a previous process marked failed', {
      runs: lost.map((run) => run.runId),
      processesStopped: stopped.length,
    });
  }
}

/**
 * The in-process schedules and services live in this process: a restart puts back the schedule of every
 * deployment of a local cell that has one (ticks missed while the process was down are not replayed) and
 * starts its streaming Transforms again.
 */
async function restoreDeployments(
  deps: RunPlaneDependencies,
  plane: RunPlane,
  scheduler: InProcessScheduler,
  environments: readonly string[],
): Promise<void> {
  for (const env of environments) {
    let cursor: string | undefined;
    do {
      const page = await plane.deployments.listDeploymentsOfEnvironment(env, { limit: 100, cursor });
      for (const deployment of page.items) {
        const cell = await plane.cells.getCell(deployment.cell).catch(() => undefined);
        if (cell?.runtime.kind !== 'local') continue;
        const id = {
          cell: deployment.cell,
          env: deployment.env,
          namespace: deployment.namespace,
          name: deployment.name,
        };
        const schedule = scheduleOf(deployment.trigger);
        if (schedule?.cron !== undefined)
          scheduler.put(id, { cron: schedule.cron, timezone: schedule.timezone });
        if (deployment.mode === 'streaming') {
          await plane
            .resumeStreaming(deployment)
            .catch((error: unknown) =>
              deps.logger.error('streaming Transform not resumed', { deployment: id, error }),
            );
        }
      }
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  }
}
