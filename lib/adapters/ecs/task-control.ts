import { createHash } from 'node:crypto';
import {
  type ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  StopTaskCommand,
} from '@aws-sdk/client-ecs';
import type { CellRuntime, EcsCellRuntime } from '../../contracts/api/cells.js';
import { transformContainerName } from '../../contracts/workflows/run-state-machine.js';
import { UnprocessableError } from '../../domain/errors.js';
import type { TaskControl, TaskDefinitionSpec } from '../../ports/task-control.js';

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
 * revisions and environment (cached by the hash of its spec), and stops a run's tasks by `startedBy`.
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
    for (const desiredStatus of ['RUNNING', 'PENDING'] as const) {
      const listed = await this.client.send(
        new ListTasksCommand({ cluster: clusterArn, startedBy: runId, desiredStatus }),
      );
      for (const task of listed.taskArns ?? []) {
        await this.client.send(
          new StopTaskCommand({ cluster: clusterArn, task, reason: reason.slice(0, 255) }),
        );
      }
    }
  }
}

/** The region of an ARN (`arn:aws:ecs:<region>:…`). */
export function regionOf(arn: string): string {
  return arn.split(':')[3] ?? '';
}
