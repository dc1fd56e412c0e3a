import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import type { CellRuntime } from '../../contracts/api/cells.js';
import type { RunTrigger } from '../../contracts/api/runs.js';
import { transformContainerName } from '../../contracts/workflows/run-state-machine.js';
import type { CellStoreRepository, StoreRecord } from '../../ports/cell-store.js';
import type { DeploymentRepository } from '../../ports/deployment-store.js';
import type { DomainEvent, EventPublisher } from '../../ports/event-publisher.js';
import type { PackageReader, Page } from '../../ports/package-repository.js';
import type { LogLine, RunLogs } from '../../ports/run-logs.js';
import type { ListRunsQuery, RunRepository } from '../../ports/run-store.js';
import type { SecretStore } from '../../ports/secret-store.js';
import type { StoppedTask, TaskControl } from '../../ports/task-control.js';
import type { WorkflowStarter } from '../../ports/workflow-starter.js';
import { resolvePackage, storesNeeded } from '../deployments/package-resolution.js';
import {
  ConflictError,
  DataKitError,
  DependencyUnavailableError,
  found,
  NotFoundError,
  UnprocessableError,
} from '../errors.js';
import { outputVersionId } from '../lineage/folds.js';
import { datasetNodeId } from '../lineage/node-id.js';
import { newRunRecord, type RunDataSetIo, type RunRecord } from './model.js';
import { dataKitProducer, lineageNameOf, runLineageEvent } from './run-lineage.js';
import { type RunAction, type RunEvent, transitionRun } from './run-state.js';
import { buildTaskDefinition, runOverrides } from './task-definition.js';

export interface RunDependencies {
  readonly runs: RunRepository;
  readonly deployments: DeploymentRepository;
  readonly cells: CellStoreRepository;
  readonly packages: PackageReader;
  readonly workflows: WorkflowStarter;
  readonly tasks: TaskControl;
  readonly secrets: SecretStore;
  readonly logs: RunLogs;
  readonly events: EventPublisher;
  /** Ingests an OpenLineage event as any producer's would be (parse, then the lineage use case). */
  readonly emitLineage: (event: Record<string, unknown>) => Promise<void>;
  /** The job of a run as lineage knows it: a triggered run names its upstream run as OpenLineage parent. */
  readonly lineageJobOf?:
    | ((runId: string) => Promise<{ readonly namespace: string; readonly name: string } | undefined>)
    | undefined;
  /** Where Transforms report their own lineage, read when a run is prepared. */
  readonly lineageEndpoint: () => string;
  readonly clock: () => Date;
  readonly ids?: () => string;
}

/** What Prepare hands the RunTask state: exactly what `ecs:runTask.sync` takes (ADR 0006). */
export interface PreparedTask {
  readonly cluster: string;
  readonly taskDefinition: string;
  readonly networkConfiguration: Record<string, unknown>;
  readonly overrides: {
    readonly ContainerOverrides: readonly {
      readonly Name: string;
      readonly Environment: readonly { readonly Name: string; readonly Value: string }[];
    }[];
  };
  readonly timeoutSeconds: number;
}

/** A failure as Step Functions hands it to a Catch: `Error` (a name) and `Cause` (text, often JSON). */
export const stepErrorSchema = z.object({ Error: z.string(), Cause: z.string().optional() });
export type StepError = z.infer<typeof stepErrorSchema>;

/** A manual or triggered run request. */
export interface StartRunRequest {
  readonly namespace: string;
  readonly name: string;
  readonly cell: string;
  readonly env: string;
  readonly trigger: RunTrigger;
  readonly requestedBy?: string | undefined;
  readonly idempotencyKey?: string | undefined;
  /**
   * A deterministic run id (triggered runs, schedule ticks): a run with this id that exists already is
   * returned as it is (started again if still PENDING), so a repeated start is one run.
   */
  readonly runId?: string | undefined;
}

const idempotencyTtlSeconds = 24 * 3600;
/** Our error codes travel as Step Functions error names; anything else is someone else's error. */
const ownCode = /^[A-Z][A-Z0-9_]{2,63}$/u;

/** The ECS container exit code in a stopped task, in Step Functions' PascalCase or ECS's camelCase. */
const stoppedTaskSchema = z.looseObject({
  TaskArn: z.string().optional(),
  StopCode: z.string().optional(),
  StoppedReason: z.string().optional(),
  Containers: z
    .array(
      z.looseObject({
        Name: z.string().optional(),
        ExitCode: z.number().int().optional(),
        Reason: z.string().optional(),
      }),
    )
    .optional(),
});

function containerOf(task: z.infer<typeof stoppedTaskSchema>) {
  return (
    task.Containers?.find((container) => container.Name === transformContainerName) ?? task.Containers?.[0]
  );
}

/** How a failure reaches the run: its event, classified from AWS's or the local runner's error. */
export function classifyFailure(error: StepError, at: string): RunEvent {
  if (error.Error === 'States.Timeout') {
    return {
      type: 'timed-out',
      at,
      message: 'The Transform ran past its timeout (spec.timeout) and was stopped.',
    };
  }
  const cause = error.Cause ?? '';
  if (error.Error === 'States.TaskFailed') {
    const parsed = parseJson(cause);
    const task = stoppedTaskSchema.safeParse(parsed);
    if (task.success) {
      const container = containerOf(task.data);
      const exitCode = container?.ExitCode;
      const taskArn = task.data.TaskArn;
      if (task.data.StopCode === 'TerminationNotice') {
        return {
          type: 'failed',
          at,
          ...(taskArn === undefined ? {} : { taskArn }),
          error: {
            code: 'RUN_ORPHANED',
            message: 'The control plane stopped while the run was running; its process was stopped.',
          },
        };
      }
      if (exitCode !== undefined) {
        return {
          type: 'failed',
          at,
          exitCode,
          ...(taskArn === undefined ? {} : { taskArn }),
          error: { code: 'RUN_EXIT_NONZERO', message: `The Transform exited with code ${exitCode}.` },
        };
      }
      const reason = container?.Reason ?? task.data.StoppedReason ?? 'the task stopped without an exit code';
      return {
        type: 'failed',
        at,
        ...(taskArn === undefined ? {} : { taskArn }),
        error: { code: 'RUN_TASK_FAILED', message: `The task failed: ${reason}.` },
      };
    }
  }
  // Lambda failures arrive as {errorMessage, errorType} JSON; local overrides as plain text.
  const lambda = z.object({ errorMessage: z.string() }).safeParse(parseJson(cause));
  const message = (lambda.success ? lambda.data.errorMessage : cause) || 'The run failed.';
  const code = ownCode.test(error.Error) ? error.Error : 'RUN_FAILED';
  return {
    type: 'failed',
    at,
    error: { code, message: code === 'RUN_FAILED' ? `${error.Error}: ${message}` : message },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const runNotFound = (runId: string) => new NotFoundError('RUN_NOT_FOUND', `No run ${runId}.`);

/**
 * Runs (ADR 0006): starting one, the three steps the state machine calls (Prepare, Complete, Fail),
 * cancelling, and reading them. Every status change goes through `transitionRun` and a conditional
 * write; the actions it returns are carried out after the write, and repeated by a retried step.
 */
export function makeRuns(deps: RunDependencies) {
  const ids = deps.ids ?? randomUUID;
  const now = () => deps.clock().toISOString();

  const cellNotFound = (cell: string) => new NotFoundError('CELL_NOT_FOUND', `No cell ${cell}.`);
  const cellRuntime = async (cell: string): Promise<CellRuntime> => {
    const record = await deps.cells.getCell(cell);
    if (record === undefined) throw cellNotFound(cell);
    return record.runtime;
  };

  /**
   * Applies an event with optimistic locking, retrying on a concurrent change, then its actions. A step
   * that read the run already passes it as `known`: it stands in for the first read when the transition
   * writes, since the conditional write on its revision proves it current (and a stale one costs a retry,
   * not a wrong answer). A transition that writes nothing proves nothing, so it is decided on a fresh read.
   */
  const apply = async (
    runId: string,
    event: RunEvent,
    patch: Partial<RunRecord> = {},
    known?: RunRecord,
  ): Promise<RunRecord> => {
    let unverified = known;
    for (let attempt = 0; ; attempt++) {
      const current = unverified ?? found(await deps.runs.getRun(runId), 'RUN_NOT_FOUND', `No run ${runId}.`);
      const trusted = unverified === undefined;
      unverified = undefined;
      const transition = transitionRun({ ...current, ...patch }, event);
      if (!trusted && !transition.changed) continue;
      if (transition.changed && !(await deps.runs.updateRun(transition.run, current.revision))) {
        if (attempt >= 8) {
          throw new DependencyUnavailableError('RUN_BUSY', `Run ${runId} keeps changing; retry.`);
        }
        continue;
      }
      const run = transition.changed ? { ...transition.run, revision: current.revision + 1 } : transition.run;
      await carryOut(run, transition.actions);
      return run;
    }
  };

  const carryOut = async (run: RunRecord, actions: readonly RunAction[]): Promise<void> => {
    const events: DomainEvent[] = [];
    for (const action of actions) {
      switch (action.type) {
        case 'lineage':
          if (run.lineageEnabled !== false) {
            const parent = await parentOf(run);
            await deps.emitLineage(runLineageEvent({ run, eventType: action.eventType, parent }));
          }
          break;
        case 'publish':
          events.push({
            detailType: action.detailType,
            detail: runEventDetail(run),
            resources: [`datakit:run/${run.runId}`],
          });
          break;
        case 'publish-outputs-updated':
          events.push(...(run.io?.outputs ?? []).map((output) => datasetUpdated(run, output)));
          break;
        case 'stop-task':
          await deps.tasks.stopRunTasks(
            await cellRuntime(run.cell),
            run.runId,
            run.error?.message ?? 'run ended',
          );
          break;
        case 'stop-execution':
          await deps.workflows.stopRun(
            await cellRuntime(run.cell),
            run.runId,
            run.error?.message ?? 'run cancelled',
          );
          break;
      }
    }
    if (events.length > 0) await deps.events.publish(events);
  };

  /** The upstream run of a triggered run (the first it covers), as its OpenLineage parent. */
  const parentOf = async (run: RunRecord) => {
    const upstream = run.trigger.type === 'on-change' ? run.trigger.upstream?.[0] : undefined;
    if (upstream === undefined || deps.lineageJobOf === undefined) return undefined;
    const job = await deps.lineageJobOf(upstream.runId);
    return job === undefined ? undefined : { ...job, runId: upstream.runId };
  };

  const datasetUpdated = (run: RunRecord, output: RunDataSetIo): DomainEvent => ({
    detailType: 'DataSet Updated',
    detail: {
      dataset: output.lineage,
      version: outputVersionId(run.runId, datasetNodeId(output.lineage.namespace, output.lineage.name)),
      runId: run.runId,
      job: { namespace: run.lineage.namespace, name: run.lineage.name },
      eventTime: run.finishedAt ?? now(),
      producer: dataKitProducer,
      cell: output.cell,
      datakit: { namespace: output.namespace, name: output.name },
      producerRunId: run.runId,
      chain: run.trigger.chain ?? [],
    },
    resources: [`datakit:run/${run.runId}`],
  });

  return {
    /** Starts a run of the version deployed in env × cell: records it PENDING, then starts its execution. */
    async start(request: StartRunRequest): Promise<RunRecord> {
      if (request.runId !== undefined) {
        const existing = await deps.runs.getRun(request.runId);
        if (existing !== undefined) return resumeExisting(existing);
      }
      // Side by side: both are needed for every run that starts, and `POST /v1/runs` waits for them.
      const [deployment, cellRecord] = await Promise.all([
        deps.deployments.getDeployment(request.namespace, request.name, request.env, request.cell),
        deps.cells.getCell(request.cell),
      ]);
      if (deployment === undefined) {
        throw new NotFoundError(
          'DEPLOYMENT_NOT_FOUND',
          `${request.namespace}/${request.name} is not deployed to ${request.env} in cell ${request.cell}; deploy it with POST /v1/promotions first.`,
        );
      }
      if (deployment.kind !== 'Transform') {
        throw new UnprocessableError(
          'RUN_NOT_A_TRANSFORM',
          `${request.namespace}/${request.name} is a ${deployment.kind}; only Transforms run.`,
        );
      }
      if (deployment.mode === 'streaming') {
        throw new UnprocessableError(
          'RUN_STREAMING_TRANSFORM',
          `${request.namespace}/${request.name} is a streaming Transform: it runs continuously as a service since its deployment.`,
        );
      }
      if (cellRecord === undefined) throw cellNotFound(request.cell);
      const runtime = cellRecord.runtime;
      let runId = request.runId ?? ids();
      if (request.idempotencyKey !== undefined) {
        const earlier = await deps.runs.claimIdempotencyKey(
          'runs',
          request.idempotencyKey,
          runId,
          idempotencyTtlSeconds,
        );
        if (earlier !== undefined) {
          const existing = await deps.runs.getRun(earlier);
          if (existing !== undefined) {
            if (existing.status === 'PENDING') await startExecution(runtime, existing.runId);
            return existing;
          }
          runId = earlier;
        }
      }
      const run = newRunRecord({
        runId,
        namespace: request.namespace,
        name: request.name,
        version: deployment.version,
        digest: deployment.digest,
        env: request.env,
        cell: request.cell,
        trigger: request.trigger,
        createdAt: now(),
        ...(request.requestedBy === undefined ? {} : { requestedBy: request.requestedBy }),
      });
      if (!(await deps.runs.createRun(run))) {
        // A concurrent start of the same deterministic id wrote it first.
        return resumeExisting(await requireRun(runId));
      }
      await startExecution(runtime, runId);
      return run;
    },

    /**
     * Prepare: marks the run RUNNING, resolves deployment → version → Transform, DataSets and Stores,
     * registers (or reuses) the task definition and emits lineage START. Refusals carry their code.
     */
    async prepare(runId: string): Promise<PreparedTask> {
      const run = await requireRun(runId);
      if (run.status !== 'PENDING' && run.status !== 'RUNNING') {
        throw new ConflictError('RUN_ALREADY_ENDED', `Run ${runId} already ended as ${run.status}.`);
      }
      // Independent reads, side by side: the Prepare step sits between the request and the Transform.
      const [version, cellRecord] = await Promise.all([
        deps.packages.getVersion(run.namespace, run.name, run.version),
        deps.cells.getCell(run.cell),
      ]);
      if (version === undefined) {
        throw new UnprocessableError(
          'VERSION_NOT_FOUND',
          `Version ${run.version} of ${run.namespace}/${run.name} is not registered.`,
        );
      }
      const resolved = await resolvePackage(version, run.cell, (namespace, name) =>
        deps.packages.getDataSet(namespace, name),
      );
      const transform = resolved.transform;
      if (transform === undefined) {
        throw new UnprocessableError(
          'RUN_NOT_A_TRANSFORM',
          `${run.namespace}/${run.name}@${run.version} is not a Transform.`,
        );
      }
      const stores = new Map<string, ReadonlyMap<string, StoreRecord>>();
      for (const [cell, names] of storesNeeded(resolved))
        stores.set(cell, await deps.cells.getStores(cell, [...names]));
      if (cellRecord === undefined) throw cellNotFound(run.cell);
      const runtime = cellRecord.runtime;
      const spec = await buildTaskDefinition({
        placement: {
          package: {
            namespace: run.namespace,
            name: run.name,
            version: run.version,
            digest: run.digest,
            repository: version.repository,
          },
          env: run.env,
          cell: run.cell,
          runtime,
        },
        transform,
        dataSets: resolved.dataSets,
        stores,
        secrets: deps.secrets,
        lineage: { url: deps.lineageEndpoint() },
      });
      const taskDefinition = await deps.tasks.registerTaskDefinition(spec);
      const ioOf = (role: 'input' | 'output'): RunDataSetIo[] =>
        resolved.dataSets
          .filter((dataSet) => dataSet.role === role)
          .flatMap((dataSet) => {
            const store = stores.get(dataSet.cell)?.get(dataSet.contract.store);
            if (store === undefined) return [];
            return [
              {
                namespace: dataSet.contract.namespace,
                name: dataSet.contract.name,
                cell: dataSet.cell,
                lineage: lineageNameOf(dataSet.contract, dataSet.cell, store.manifest),
                ...(dataSet.contract.schema === undefined
                  ? {}
                  : {
                      schema: dataSet.contract.schema.map((field) => ({
                        name: field.name,
                        type: field.type,
                      })),
                    }),
              },
            ];
          });
      const started = await apply(
        runId,
        { type: 'started', at: now(), family: spec.family },
        {
          io: { inputs: ioOf('input'), outputs: ioOf('output') },
          lineageEnabled: transform.spec.lineage?.enabled !== false,
          mode: transform.spec.mode ?? 'batch',
        },
        run,
      );
      if (started.status !== 'RUNNING') {
        // Cancelled while preparing: the task must not start.
        throw new ConflictError(
          'RUN_ALREADY_ENDED',
          `Run ${runId} ended as ${started.status} while it was being prepared.`,
        );
      }
      return {
        cluster: runtime.kind === 'ecs' ? runtime.clusterArn : 'local',
        taskDefinition,
        networkConfiguration:
          runtime.kind === 'ecs'
            ? {
                AwsvpcConfiguration: {
                  Subnets: runtime.subnets,
                  SecurityGroups: runtime.securityGroups,
                  AssignPublicIp: runtime.assignPublicIp ? 'ENABLED' : 'DISABLED',
                },
              }
            : {},
        overrides: {
          ContainerOverrides: [
            {
              Name: 'transform',
              Environment: runOverrides(run).map((variable) => ({
                Name: variable.name,
                Value: variable.value,
              })),
            },
          ],
        },
        timeoutSeconds: spec.timeoutSeconds,
      };
    },

    /** Complete: the task exited 0 → SUCCEEDED, lineage COMPLETE, `Run Succeeded`, `DataSet Updated` per output. */
    async complete(runId: string, task: StoppedTask): Promise<RunRecord> {
      const parsed = stoppedTaskSchema.safeParse(task);
      const exitCode = parsed.success ? (containerOf(parsed.data)?.ExitCode ?? 0) : 0;
      return apply(runId, {
        type: 'succeeded',
        at: now(),
        exitCode,
        ...(parsed.success && parsed.data.TaskArn !== undefined ? { taskArn: parsed.data.TaskArn } : {}),
      });
    },

    /** Fail: classifies the failure (timeout, exit code, refusal) → FAILED or TIMED_OUT, lineage FAIL, `Run Failed`. */
    async fail(runId: string, error: StepError): Promise<RunRecord> {
      return apply(runId, classifyFailure(error, now()));
    },

    /** Cancels a live run: CANCELLED, the execution and the task stopped, lineage ABORT. */
    async cancel(runId: string, by?: string): Promise<RunRecord> {
      const run = await requireRun(runId);
      if (run.status !== 'PENDING' && run.status !== 'RUNNING') {
        throw new ConflictError(
          'RUN_ALREADY_ENDED',
          `Run ${runId} already ended as ${run.status}; there is nothing to cancel.`,
        );
      }
      return apply(runId, { type: 'cancelled', at: now(), ...(by === undefined ? {} : { by }) });
    },

    /** Marks runs a previous process lost (embedded mode's restart) as FAILED RUN_ORPHANED. */
    async markOrphaned(runIds: readonly string[]): Promise<RunRecord[]> {
      return Promise.all(runIds.map((runId) => apply(runId, { type: 'orphaned', at: now() })));
    },

    async get(runId: string): Promise<RunRecord> {
      return requireRun(runId);
    },

    async list(query: ListRunsQuery): Promise<Page<RunRecord>> {
      return deps.runs.listRuns(query);
    },

    async logs(runId: string, limit: number): Promise<LogLine[]> {
      const run = await requireRun(runId);
      return deps.logs.tail(await cellRuntime(run.cell), { runId, family: run.family ?? '' }, limit);
    },
  };

  /** A start of a run that exists: start its execution again while it is PENDING (idempotent by name). */
  async function resumeExisting(run: RunRecord): Promise<RunRecord> {
    if (run.status === 'PENDING') await startExecution(await cellRuntime(run.cell), run.runId);
    return run;
  }

  async function requireRun(runId: string): Promise<RunRecord> {
    const run = await deps.runs.getRun(runId);
    if (run === undefined) throw runNotFound(runId);
    return run;
  }

  async function startExecution(runtime: CellRuntime, runId: string): Promise<void> {
    try {
      await deps.workflows.startRun(runtime, runId);
    } catch (cause) {
      if (cause instanceof DataKitError) throw cause;
      throw new DependencyUnavailableError(
        'RUN_START_UNAVAILABLE',
        `The run ${runId} is recorded but its workflow could not be started; retry with the same Idempotency-Key to start it.`,
        { cause },
      );
    }
  }
}

export type Runs = ReturnType<typeof makeRuns>;

function runEventDetail(run: RunRecord): Record<string, unknown> {
  return {
    runId: run.runId,
    namespace: run.namespace,
    name: run.name,
    version: run.version,
    digest: run.digest,
    env: run.env,
    cell: run.cell,
    status: run.status,
    trigger: run.trigger,
    ...(run.startedAt === undefined ? {} : { startedAt: run.startedAt }),
    ...(run.finishedAt === undefined ? {} : { finishedAt: run.finishedAt }),
    ...(run.exitCode === undefined ? {} : { exitCode: run.exitCode }),
    ...(run.error === undefined ? {} : { error: run.error }),
  };
}

/** The run as the API shows it (no storage-only fields). */
export function toApiRun(run: RunRecord) {
  const {
    io: _io,
    lineageEnabled: _lineage,
    mode: _mode,
    family: _family,
    taskArn: _taskArn,
    updatedAt: _updated,
    revision: _revision,
    ...api
  } = run;
  return api;
}
