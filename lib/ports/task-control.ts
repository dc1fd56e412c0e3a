import type { CellRuntime } from '../contracts/api/cells.js';

/** A name/value pair of a container's environment (ECS's shape, camel-cased). */
export interface EnvironmentVariable {
  readonly name: string;
  readonly value: string;
}

/** A variable whose value is a secret, injected by reference (ECS task definition `secrets`). */
export interface SecretVariable {
  readonly name: string;
  /** AWS: `<secret arn>:<json key>::`; embedded: a handle the local secret store resolves. */
  readonly valueFrom: string;
}

/** The package a task runs: where its artifact is, so a local runner can unpack its content layer. */
export interface TaskPackage {
  readonly namespace: string;
  readonly name: string;
  readonly version: string;
  readonly digest: string;
  /** `<registry>/<repository>` the artifact was registered from. */
  readonly repository: string;
}

/**
 * Everything a task definition holds for one Transform version in one cell (family
 * `datakit-{cell}-{ns}-{name}`): what runs, its static environment and its secret references. Per-run
 * values (`DK_RUN_ID`, the parent run) come as overrides when the task starts.
 */
export interface TaskDefinitionSpec {
  readonly family: string;
  readonly cell: string;
  readonly runtime: CellRuntime;
  readonly package: TaskPackage;
  /** `spec.image`; required to run on ECS or docker, unused by the local subprocess runner. */
  readonly image?: string | undefined;
  /** `spec.command`: the container's command (ECS, docker) or the subprocess's argv (local). */
  readonly command?: readonly string[] | undefined;
  readonly environment: readonly EnvironmentVariable[];
  readonly secrets: readonly SecretVariable[];
  /** Fargate CPU units and memory (MiB), from `spec.resources` or the defaults. */
  readonly cpu: number;
  readonly memory: number;
  /** `spec.timeout` in seconds (ECS: enforced by the state machine; local: by the runner). */
  readonly timeoutSeconds: number;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * The control side of the task runtime: ECS in AWS, the local runner in embedded mode. Starting a task
 * is the state machine's job (`ecs:runTask.sync`), not this port's.
 */
export interface TaskControl {
  /** Registers the task definition (or finds the one registered for the same spec); returns its ARN or id. */
  registerTaskDefinition(spec: TaskDefinitionSpec): Promise<string>;
  /** Stops every task started for this run in the cell; a run with no task left is not an error. */
  stopRunTasks(runtime: CellRuntime, runId: string, reason: string): Promise<void>;
}

/** A container of a stopped task, as DescribeTasks (and Step Functions' `.sync` output) describe it. */
export interface StoppedContainer {
  readonly Name: string;
  readonly ExitCode?: number | undefined;
  readonly Reason?: string | undefined;
}

/** A stopped task in Step Functions' shape (PascalCase), from ECS or from the local runner. */
export interface StoppedTask {
  readonly TaskArn: string;
  readonly StartedBy?: string | undefined;
  readonly Containers: readonly StoppedContainer[];
  readonly StartedAt?: string | undefined;
  readonly StoppedAt?: string | undefined;
  readonly StoppedReason?: string | undefined;
  readonly StopCode?: string | undefined;
}
