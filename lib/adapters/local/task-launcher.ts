import { execFile } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArchiveLimits } from '../../domain/registry/archive.js';
import type { EnvironmentVariable, TaskDefinitionSpec } from '../../ports/task-control.js';
import { type ContentLayerFetcher, ContentLayers } from './content-layers.js';
import type { OutputCapture } from './output-capture.js';
import { type ProcessExit, ProcessGroup } from './process-group.js';
import { processStat } from './process-table.js';
import {
  composeTaskEnvironment,
  defaultInheritedVariables,
  processEnvironment,
  type SecretResolver,
} from './task-environment.js';
import { TaskStateError } from './task-state-error.js';

/** `subprocess`: `spec.command` in the unpacked content layer; `docker`: `spec.image` with `docker run`. */
export type LocalRunnerKind = 'subprocess' | 'docker';

/** What the local runner needs from the rest of the control plane, and how it behaves. */
export interface TaskLauncherOptions {
  /** The data directory (`DATAKIT_DATA_DIR`): packages, run output and process records live under it. */
  readonly dataDir: string;
  /** @default 'subprocess' */
  readonly runner?: LocalRunnerKind | undefined;
  /** Resolves a task definition's `secrets[].valueFrom`. */
  readonly resolveSecret: SecretResolver;
  /** Fetches a package's content layer (subprocess runner only). */
  readonly fetchContentLayer: ContentLayerFetcher;
  /** Names passed from the control plane's environment to a Transform. @default defaultInheritedVariables */
  readonly inheritEnvironment?: readonly string[] | undefined;
  /** The docker client to run. @default 'docker' */
  readonly dockerCommand?: string | undefined;
  /** Extra `docker run` arguments placed before the image, e.g. `['--network', 'host']`. @default [] */
  readonly dockerRunArgs?: readonly string[] | undefined;
  /** Limits for reading content layers. @default the registry's archive limits (what registration accepted) */
  readonly archiveLimits?: Partial<ArchiveLimits> | undefined;
}

/** What the docker client itself needs from the control plane's environment to reach its daemon. */
const dockerClientVariables = [
  'DOCKER_HOST',
  'DOCKER_CONTEXT',
  'DOCKER_CONFIG',
  'DOCKER_CERT_PATH',
  'DOCKER_TLS_VERIFY',
];

/** One task to start: a run, or one replica of a service. */
export interface LaunchRequest {
  readonly spec: TaskDefinitionSpec;
  readonly overrides: readonly EnvironmentVariable[];
  /** Its private directory (removed when it stops); the working copy of the package goes under it. */
  readonly directory: string;
  /** Docker mode: the container's name. */
  readonly containerName: string;
  /** Docker mode: labels on the container. */
  readonly labels: Readonly<Record<string, string>>;
  readonly output: OutputCapture;
  /** Prefix for the task's output lines (a service names its replica). */
  readonly outputPrefix?: string | undefined;
}

/** A task prepared to start: everything resolved, nothing running yet. */
export interface PreparedTask {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly request: LaunchRequest;
}

/** A started task. */
export interface LaunchedTask {
  readonly pid: number;
  /** The leader's start time (/proc), recorded to recognise the process after a crash. */
  readonly startTime: number | undefined;
  readonly runner: LocalRunnerKind;
  readonly containerName: string | undefined;
  /** Resolves when the task ended and its whole group is gone. */
  readonly exited: Promise<ProcessExit>;
  /** Stops it (docker: `docker stop` first), SIGKILL after `graceMs`; resolves when it is gone. */
  stop(graceMs: number): Promise<ProcessExit>;
}

/** Starts tasks of registered task definitions as local processes; shared by runs and services. */
export class TaskLauncher {
  readonly runner: LocalRunnerKind;
  readonly dockerCommand: string;
  private readonly layers: ContentLayers;
  private readonly inherited: readonly string[];

  constructor(private readonly options: TaskLauncherOptions) {
    this.runner = options.runner ?? 'subprocess';
    this.dockerCommand = options.dockerCommand ?? 'docker';
    this.inherited = options.inheritEnvironment ?? defaultInheritedVariables;
    this.layers = new ContentLayers(
      join(options.dataDir, 'packages'),
      options.fetchContentLayer,
      options.archiveLimits,
    );
  }

  /** The environment the docker client runs with, without any Transform variable. */
  dockerClientEnvironment(): Record<string, string> {
    return processEnvironment(new Map(), [...this.inherited, ...dockerClientVariables]);
  }

  /** Refuses a spec this runner cannot start, before anything is fetched or written. */
  check(spec: TaskDefinitionSpec): void {
    if (this.runner === 'docker') {
      if (spec.image === undefined || spec.image === '') {
        throw new TaskStateError(
          'RUN_NO_IMAGE',
          `${spec.package.namespace}/${spec.package.name} has no spec.image to run with docker: add ` +
            'spec.image to its dk.yaml, or start the control plane without DATAKIT_RUNNER=docker to run spec.command',
        );
      }
      return;
    }
    if (spec.command === undefined || spec.command.length === 0) {
      throw new TaskStateError(
        'RUN_NO_LOCAL_COMMAND',
        `${spec.package.namespace}/${spec.package.name} has no spec.command to run as a local process: add ` +
          'spec.command to its dk.yaml (e.g. command: ["python", "main.py"]), or start the control plane with ' +
          'DATAKIT_RUNNER=docker to run spec.image',
      );
    }
  }

  /** Resolves the environment and (subprocess) writes the working copy; starts nothing. */
  async prepare(request: LaunchRequest): Promise<PreparedTask> {
    const { spec } = request;
    this.check(spec);
    const transform = await composeTaskEnvironment(spec, request.overrides, this.options.resolveSecret);
    await rm(request.directory, { recursive: true, force: true });
    await mkdir(request.directory, { recursive: true });
    if (this.runner === 'docker') {
      const names = [...transform.keys()];
      const labels = Object.entries(request.labels).flatMap(([name, value]) => [
        '--label',
        `${name}=${value}`,
      ]);
      return {
        command: this.dockerCommand,
        // `-e NAME` without a value: docker reads it from its own environment, so no value is ever in argv.
        args: [
          'run',
          '--rm',
          '--name',
          request.containerName,
          ...labels,
          ...names.flatMap((name) => ['-e', name]),
          ...(this.options.dockerRunArgs ?? []),
          spec.image ?? '',
          ...(spec.command ?? []),
        ],
        cwd: request.directory,
        env: { ...this.dockerClientEnvironment(), ...Object.fromEntries(transform) },
        request,
      };
    }
    const work = join(request.directory, 'work');
    await this.layers.workingCopy(spec.package, work);
    const [command, ...args] = spec.command ?? [];
    return {
      command: command ?? '',
      args,
      cwd: work,
      env: processEnvironment(transform, this.inherited),
      request,
    };
  }

  /** Starts a prepared task; rejects (as `TaskFailedToStart`) when the command cannot be started. */
  async start(prepared: PreparedTask): Promise<LaunchedTask> {
    const { request } = prepared;
    const prefix = request.outputPrefix ?? '';
    const stdout = request.output.stream('out', prefix);
    const stderr = request.output.stream('err', prefix);
    const group = await ProcessGroup.start({
      command: prepared.command,
      args: prepared.args,
      cwd: prepared.cwd,
      env: prepared.env,
      onStdout: stdout.write,
      onStderr: stderr.write,
    });
    const exited = group.exited.then((exit) => {
      stdout.end();
      stderr.end();
      return exit;
    });
    const containerName = this.runner === 'docker' ? request.containerName : undefined;
    return {
      pid: group.pid,
      startTime: processStat(group.pid)?.startTime,
      runner: this.runner,
      containerName,
      exited,
      stop: async (graceMs) => {
        if (containerName !== undefined) await this.dockerStop(containerName, graceMs);
        await group.stop(graceMs);
        return exited;
      },
    };
  }

  /** Removes a task's private directory (its working copy); output files live elsewhere. */
  async cleanUp(request: LaunchRequest): Promise<void> {
    await rm(request.directory, { recursive: true, force: true });
  }

  private dockerStop(containerName: string, graceMs: number): Promise<void> {
    const seconds = String(Math.max(0, Math.ceil(graceMs / 1000)));
    return new Promise((resolve) => {
      // Best effort: the client may already have lost its container; killing the group follows regardless.
      execFile(
        this.dockerCommand,
        ['stop', '--time', seconds, containerName],
        { env: this.dockerClientEnvironment(), timeout: graceMs + 10_000 },
        () => resolve(),
      );
    });
  }
}
