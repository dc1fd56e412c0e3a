import { createHash } from 'node:crypto';
import { join } from 'node:path';
import * as z from 'zod';
import type { CellRuntime } from '../../contracts/api/cells.js';
import { runIdTag, transformContainerName } from '../../contracts/workflows/run-state-machine.js';
import { canonicalJson } from '../../domain/lineage/event-id.js';
import type { StoppedTask, TaskControl, TaskDefinitionSpec } from '../../ports/task-control.js';
import { localTaskIdPattern, runOutputFile } from './local-run-logs.js';
import { defaultMaxOutputBytes, OutputCapture } from './output-capture.js';
import { exitCodeOf, type ProcessExit } from './process-group.js';
import { ProcessRecords } from './process-records.js';
import {
  type LaunchedTask,
  type LaunchRequest,
  type PreparedTask,
  TaskLauncher,
  type TaskLauncherOptions,
} from './task-launcher.js';
import { TaskStateError, taskFailed } from './task-state-error.js';

/** The Parameters the RunTask state passes to `ecs:runTask.sync`, as the local runner receives them. */
export const runTaskParametersSchema = z
  .object({
    Cluster: z.string().optional(),
    TaskDefinition: z.string().min(1),
    LaunchType: z.string().optional(),
    /** The run id: the `datakit:run-id` tag (what the run state machine sends) or `StartedBy`. */
    StartedBy: z.string().regex(localTaskIdPattern, 'must be a run id').optional(),
    Tags: z.array(z.object({ Key: z.string(), Value: z.string() })).optional(),
    NetworkConfiguration: z.unknown().optional(),
    Overrides: z
      .object({
        ContainerOverrides: z
          .array(
            z.object({
              Name: z.string(),
              Environment: z.array(z.object({ Name: z.string().min(1), Value: z.string() })).optional(),
            }),
          )
          .optional(),
      })
      .optional(),
    PropagateTags: z.string().optional(),
  })
  .transform((parameters, context) => {
    const runId = parameters.Tags?.find((tag) => tag.Key === runIdTag)?.Value ?? parameters.StartedBy;
    if (runId === undefined || !localTaskIdPattern.test(runId)) {
      context.addIssue({
        code: 'custom',
        path: ['Tags'],
        message: `a ${runIdTag} tag (or StartedBy) holding a run id`,
      });
      return z.NEVER;
    }
    return { ...parameters, StartedBy: runId };
  });

export type RunTaskParameters = z.infer<typeof runTaskParametersSchema>;

/** Options of the local runner of runs. */
export interface LocalTasksOptions extends TaskLauncherOptions {
  /** Between SIGTERM and SIGKILL when a run is stopped (cancel, timeout, shutdown). @default 5000 */
  readonly stopGraceMs?: number | undefined;
  /** Bound of a run's captured output (the newest is kept). @default 8 MiB */
  readonly maxOutputBytes?: number | undefined;
  readonly clock?: (() => Date) | undefined;
}

/** What ECS says when the essential container's exit ended the task. */
const containerExited = {
  StopCode: 'EssentialContainerExited',
  StoppedReason: 'Essential container in task exited',
};
/** setTimeout's largest delay; longer ones fire at once. */
const maxTimerMs = 2_147_483_647;
/** Stopped run ids remembered so a cancel that overtakes the RunTask state still wins. */
const rememberedStops = 1_000;

interface ActiveRun {
  readonly runId: string;
  /** Set by a cancel (`UserInitiated`) or a shutdown (`TerminationNotice`); the first one wins. */
  stop?: { readonly code: string; readonly reason: string };
  timedOut: boolean;
  launched?: LaunchedTask;
  /** Settles once the run is over and cleaned up (its group gone, its record removed). */
  readonly settled: Promise<void>;
}

/**
 * The task runtime of the embedded mode (ADR 0006): what ECS is to a cell in AWS. `run` is the RunTask
 * state's local handler: it starts the Transform of a registered task definition as a process group (or a
 * docker container), enforces `spec.timeout`, and ends the way `ecs:runTask.sync` does — the stopped task
 * on exit 0, `States.TaskFailed` with the stopped task as JSON otherwise, `States.Timeout` on timeout.
 */
export class LocalTasks implements TaskControl {
  private readonly launcher: TaskLauncher;
  private readonly definitions = new Map<string, TaskDefinitionSpec>();
  private readonly active = new Map<string, ActiveRun>();
  private readonly stopped = new Map<string, { code: string; reason: string }>();
  private readonly records: ProcessRecords;
  private readonly graceMs: number;
  private readonly maxOutputBytes: number;
  private readonly clock: () => Date;
  private closing = false;

  constructor(private readonly options: LocalTasksOptions) {
    this.launcher = new TaskLauncher(options);
    this.records = new ProcessRecords(join(options.dataDir, 'runs'));
    this.graceMs = options.stopGraceMs ?? 5_000;
    this.maxOutputBytes = options.maxOutputBytes ?? defaultMaxOutputBytes;
    this.clock = options.clock ?? (() => new Date());
  }

  /** Keeps the spec in memory under an id derived from its content: the same spec, the same id. */
  async registerTaskDefinition(spec: TaskDefinitionSpec): Promise<string> {
    const hash = createHash('sha256').update(canonicalJson(spec)).digest('hex').slice(0, 12);
    const id = `local:task-definition/${spec.family}:${hash}`;
    this.definitions.set(id, spec);
    return id;
  }

  /** Runs a task to its end; see the class comment for how it settles. */
  async run(parameters: unknown, signal?: AbortSignal): Promise<StoppedTask> {
    const parsed = runTaskParametersSchema.safeParse(parameters);
    if (!parsed.success) {
      throw new TaskStateError(
        'RUN_TASK_PARAMETERS_INVALID',
        `RunTask parameters: ${z.prettifyError(parsed.error)}`,
      );
    }
    const { StartedBy: runId, TaskDefinition: definition } = parsed.data;
    const spec = this.definitions.get(definition);
    if (spec === undefined) {
      throw new TaskStateError(
        'RUN_TASK_DEFINITION_UNKNOWN',
        `task definition ${definition} is not registered here`,
      );
    }
    if (this.active.has(runId)) {
      throw new TaskStateError('RUN_TASK_ALREADY_STARTED', `a task of run ${runId} is already running`);
    }

    // First, so that nothing is registered when the output file cannot be created.
    const output = OutputCapture.create(
      runOutputFile(this.options.dataDir, runId),
      this.maxOutputBytes,
      this.clock,
    );
    let settle = () => {};
    const entry: ActiveRun = {
      runId,
      timedOut: false,
      settled: new Promise<void>((resolve) => {
        settle = resolve;
      }),
    };
    const earlier = this.stopped.get(runId);
    if (earlier !== undefined) entry.stop = earlier;
    if (this.closing) entry.stop = shutdown;
    this.active.set(runId, entry);

    const onAbort = () => {
      void this.stopRun(entry, { code: 'UserInitiated', reason: abortReason(signal) });
    };
    if (signal?.aborted) entry.stop ??= { code: 'UserInitiated', reason: abortReason(signal) };
    signal?.addEventListener('abort', onAbort, { once: true });

    const request: LaunchRequest = {
      spec,
      overrides: transformOverrides(parsed.data, runId),
      directory: join(this.options.dataDir, 'runs', runId),
      containerName: `dk-run-${runId}`,
      labels: { 'datakit.run-id': runId },
      output,
    };
    try {
      return await this.execute(entry, request);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      await this.records.remove(runId);
      await this.launcher.cleanUp(request);
      output.close();
      this.active.delete(runId);
      settle();
    }
  }

  /** Stops the run's task (SIGTERM to its group, SIGKILL after the grace period); no task is not an error. */
  async stopRunTasks(_runtime: CellRuntime, runId: string, reason: string): Promise<void> {
    const stop = { code: 'UserInitiated', reason };
    this.remember(runId, stop);
    const entry = this.active.get(runId);
    if (entry !== undefined) await this.stopRun(entry, stop);
  }

  /** The run ids with a task running now. */
  runningRuns(): string[] {
    return [...this.active.keys()];
  }

  /**
   * Ends the process groups a previous control plane left running on this data directory (verified as
   * the recorded ones, see ProcessRecords) and returns the run ids whose task it lost, alive or not.
   * Call it at startup, before any run starts.
   */
  recoverOrphans(): Promise<string[]> {
    return this.records.reap({
      graceMs: this.graceMs,
      dockerCommand: this.launcher.dockerCommand,
      dockerEnvironment: this.launcher.dockerClientEnvironment(),
    });
  }

  /** Stops every running task (their runs fail with StopCode `TerminationNotice`) and refuses new ones. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.active.values()].map((entry) => this.stopRun(entry, shutdown)));
  }

  private async execute(entry: ActiveRun, request: LaunchRequest): Promise<StoppedTask> {
    const { output, spec } = request;
    const runId = entry.runId;
    let prepared: PreparedTask;
    try {
      prepared = await this.launcher.prepare(request);
    } catch (error) {
      output.note(
        `not started: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
      );
      throw error;
    }
    // A cancel that arrived while the package was unpacked stops the run before anything starts.
    if (entry.stop !== undefined) {
      output.note(`not started: ${entry.stop.reason}`);
      throw this.stoppedBeforeStart(runId, entry.stop);
    }
    const startedAt = this.clock().toISOString();
    output.note(`starting ${JSON.stringify([prepared.command, ...prepared.args])} (${this.launcher.runner})`);
    let launched: LaunchedTask;
    try {
      launched = await this.launcher.start(prepared);
    } catch (error) {
      const reason = `CannotStartContainerError: ${error instanceof Error ? error.message : String(error)}`;
      output.note(`not started: ${reason}`);
      throw taskFailed({
        TaskArn: taskArn(runId),
        StartedBy: runId,
        Containers: [{ Name: transformContainerName, Reason: reason }],
        StoppedAt: this.clock().toISOString(),
        StoppedReason: reason,
        StopCode: 'TaskFailedToStart',
      });
    }
    entry.launched = launched;
    await this.records.write(runId, {
      owner: runId,
      pid: launched.pid,
      pgid: launched.pid,
      ...(launched.startTime === undefined ? {} : { startTime: launched.startTime }),
      startedAt,
      runner: launched.runner,
      ...(launched.containerName === undefined ? {} : { container: launched.containerName }),
    });
    // A stop requested between the start and now must not be lost.
    const stopDuringStart = requestedStop(entry);
    if (stopDuringStart !== undefined) void this.stopRun(entry, stopDuringStart);

    const timer = setTimeout(
      () => {
        if (entry.stop !== undefined) return;
        entry.timedOut = true;
        output.note(`timed out after ${spec.timeoutSeconds} s (spec.timeout); stopping`);
        void launched.stop(this.graceMs);
      },
      Math.min(spec.timeoutSeconds * 1000, maxTimerMs),
    );
    let exit: ProcessExit;
    try {
      exit = await launched.exited;
    } finally {
      clearTimeout(timer);
    }

    const exitCode = exitCodeOf(exit);
    output.note(`exited with code ${exitCode}${exit.signal === null ? '' : ` (${exit.signal})`}`);
    const stopped = (how: { StopCode: string; StoppedReason: string }): StoppedTask => ({
      TaskArn: taskArn(runId),
      StartedBy: runId,
      Containers: [{ Name: transformContainerName, ExitCode: exitCode }],
      StartedAt: startedAt,
      StoppedAt: this.clock().toISOString(),
      ...how,
    });
    if (entry.timedOut) {
      throw new TaskStateError(
        'States.Timeout',
        `the task ran longer than spec.timeout (${spec.timeoutSeconds} s) and was stopped`,
      );
    }
    const stop = requestedStop(entry);
    if (stop !== undefined) throw taskFailed(stopped({ StopCode: stop.code, StoppedReason: stop.reason }));
    if (exitCode !== 0) throw taskFailed(stopped(containerExited));
    return stopped(containerExited);
  }

  private async stopRun(entry: ActiveRun, stop: { code: string; reason: string }): Promise<void> {
    entry.stop ??= stop;
    if (entry.launched !== undefined && !entry.timedOut) {
      entry.launched.stop(this.graceMs).catch(() => undefined);
    }
    await entry.settled;
  }

  private stoppedBeforeStart(runId: string, stop: { code: string; reason: string }): TaskStateError {
    return taskFailed({
      TaskArn: taskArn(runId),
      StartedBy: runId,
      Containers: [{ Name: transformContainerName }],
      StoppedAt: this.clock().toISOString(),
      StoppedReason: stop.reason,
      StopCode: stop.code,
    });
  }

  private remember(runId: string, stop: { code: string; reason: string }): void {
    this.stopped.set(runId, stop);
    if (this.stopped.size > rememberedStops) {
      const oldest = this.stopped.keys().next();
      if (oldest.done !== true) this.stopped.delete(oldest.value);
    }
  }
}

const shutdown = { code: 'TerminationNotice', reason: 'the control plane is shutting down' };

function taskArn(runId: string): string {
  return `local:task/${runId}`;
}

/** The run's variables (the Transform container's overrides), with DK_RUN_ID set to the run when absent. */
function transformOverrides(parameters: RunTaskParameters, runId: string) {
  const container = parameters.Overrides?.ContainerOverrides?.find(
    (entry) => entry.Name === transformContainerName,
  );
  const variables = (container?.Environment ?? []).map(({ Name, Value }) => ({ name: Name, value: Value }));
  return [{ name: 'DK_RUN_ID', value: runId }, ...variables];
}

/** Read through a call: a cancel sets it while `execute` awaits, which flow narrowing cannot see. */
function requestedStop(entry: ActiveRun): ActiveRun['stop'] {
  return entry.stop;
}

function abortReason(signal: AbortSignal | undefined): string {
  const reason: unknown = signal?.reason;
  return typeof reason === 'string' && reason !== '' ? reason : 'the run was cancelled';
}
