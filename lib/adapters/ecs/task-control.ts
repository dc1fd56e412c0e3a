import { createHash } from 'node:crypto';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { CellRuntime, EcsCellRuntime } from '../../contracts/api/cells.js';
import { runIdTag, transformContainerName } from '../../contracts/workflows/run-state-machine.js';
import { UnprocessableError } from '../../domain/errors.js';
import type { TaskControl, TaskDefinitionSpec } from '../../ports/task-control.js';

/** The SDK module on first use: a bundle's static SDK imports all load at init (ADR 0012). */
const sdk = () => import('@aws-sdk/client-ecs');

/** Remembers the task definition registered for a spec, so a run reuses it instead of adding a revision. */
export interface TaskDefinitionCache {
  get(family: string, specHash: string): Promise<string | undefined>;
  put(family: string, specHash: string, arn: string): Promise<void>;
}

function ecsRuntime(runtime: CellRuntime): EcsCellRuntime {
  if (runtime.kind !== 'ecs') {
    throw new UnprocessableError('CELL_RUNTIME_UNSUPPORTED', 'This cell runs in embedded mode, not on ECS.');
  }
  return runtime;
}

/** A stable hash of what the task definition holds (secret references, never secret values). */
export function specHash(spec: TaskDefinitionSpec): string {
  const { runtime: _runtime, ...rest } = spec;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 32);
}

/**
 * ECS control for runs (ADR 0006): registers one Fargate task definition per Transform version, store
 * revisions and environment (cached by the hash of its spec), and stops a run's tasks by their `datakit:run-id` tag.
 */
export class EcsTaskControl implements TaskControl {
  constructor(
    private readonly client: Pick<ECSClient, 'send'>,
    private readonly cache: TaskDefinitionCache,
  ) {}

  async registerTaskDefinition(spec: TaskDefinitionSpec): Promise<string> {
    const runtime = ecsRuntime(spec.runtime);
    if (spec.image === undefined) {
      throw new UnprocessableError(
        'RUN_NO_IMAGE',
        'The Transform has no spec.image; ECS runs container images.',
      );
    }
    const hash = specHash(spec);
    const cached = await this.cache.get(spec.family, hash);
    if (cached !== undefined) return cached;
    const { RegisterTaskDefinitionCommand } = await sdk();
    const output = await this.client.send(
      new RegisterTaskDefinitionCommand({
        family: spec.family,
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: String(spec.cpu),
        memory: String(spec.memory),
        executionRoleArn: runtime.executionRoleArn,
        taskRoleArn: runtime.taskRoleArn,
        runtimePlatform: {
          cpuArchitecture: runtime.cpuArchitecture ?? 'X86_64',
          operatingSystemFamily: 'LINUX',
        },
        containerDefinitions: [
          {
            name: transformContainerName,
            image: spec.image,
            essential: true,
            ...(spec.command === undefined ? {} : { command: [...spec.command] }),
            environment: spec.environment.map((variable) => ({ name: variable.name, value: variable.value })),
            secrets: spec.secrets.map((secret) => ({ name: secret.name, valueFrom: secret.valueFrom })),
            logConfiguration: {
              logDriver: 'awslogs',
              options: {
                'awslogs-group': runtime.logGroupName,
                'awslogs-region': regionOf(runtime.clusterArn),
                'awslogs-stream-prefix': spec.family,
              },
            },
            readonlyRootFilesystem: false,
          },
        ],
        tags: [...Object.entries(spec.tags), ['datakit:spec-hash', hash]].map(([key, value]) => ({
          key,
          value,
        })),
      }),
    );
    const arn = output.taskDefinition?.taskDefinitionArn;
    if (arn === undefined) throw new Error('RegisterTaskDefinition returned no task definition ARN');
    await this.cache.put(spec.family, hash, arn);
    return arn;
  }

  async stopRunTasks(runtime: CellRuntime, runId: string, reason: string): Promise<void> {
    const { clusterArn } = ecsRuntime(runtime);
    const { StopTaskCommand } = await sdk();
    for (const task of await this.runTaskArns(runtime, runId)) {
      await this.client.send(
        new StopTaskCommand({ cluster: clusterArn, task, reason: reason.slice(0, 255) }),
      );
    }
  }

  /**
   * The live (pending or running) tasks of a run. ECS lists tasks by `startedBy` but not by tag, and Step
   * Functions' `.sync` integration keeps `startedBy` for itself: the run id travels as the `datakit:run-id`
   * tag, so the cluster's live tasks are described (100 at a time, with their tags) and filtered by it.
   */
  async runTaskArns(runtime: CellRuntime, runId: string): Promise<string[]> {
    const { clusterArn } = ecsRuntime(runtime);
    const { DescribeTasksCommand, ListTasksCommand } = await sdk();
    const found: string[] = [];
    for (const desiredStatus of ['RUNNING', 'PENDING'] as const) {
      let nextToken: string | undefined;
      do {
        const listed = await this.client.send(
          new ListTasksCommand({ cluster: clusterArn, desiredStatus, maxResults: 100, nextToken }),
        );
        nextToken = listed.nextToken;
        const arns = listed.taskArns ?? [];
        if (arns.length === 0) continue;
        const described = await this.client.send(
          new DescribeTasksCommand({ cluster: clusterArn, tasks: arns, include: ['TAGS'] }),
        );
        for (const task of described.tasks ?? []) {
          const tagged = task.tags?.some((tag) => tag.key === runIdTag && tag.value === runId) ?? false;
          if (tagged && task.taskArn !== undefined && !found.includes(task.taskArn)) found.push(task.taskArn);
        }
      } while (nextToken !== undefined);
    }
    return found;
  }
}

/** The region of an ARN (`arn:aws:ecs:<region>:…`). */
export function regionOf(arn: string): string {
  return arn.split(':')[3] ?? '';
}
