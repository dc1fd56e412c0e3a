import {
  DescribeTasksCommand,
  type DescribeTasksCommandInput,
  ListTasksCommand,
  type ListTasksCommandInput,
  StopTaskCommand,
  type StopTaskCommandInput,
} from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { EcsTaskControl } from '../../../lib/adapters/ecs/task-control.js';
import type { EcsCellRuntime } from '../../../lib/contracts/api/cells.js';
import { runIdTag } from '../../../lib/contracts/workflows/run-state-machine.js';

/**
 * ECS has no local stand-in: this fake answers ListTasks, DescribeTasks and StopTask from a list of tasks,
 * paginating ListTasks the way ECS does (nextToken, at most `maxResults`).
 */
class FakeEcs {
  readonly stopped: StopTaskCommandInput[] = [];
  readonly describedBatches: number[] = [];

  constructor(
    private readonly tasks: readonly {
      arn: string;
      status: 'RUNNING' | 'PENDING' | 'STOPPED';
      runId?: string;
    }[],
  ) {}

  async send(command: unknown): Promise<unknown> {
    if (command instanceof ListTasksCommand) {
      const input: ListTasksCommandInput = command.input;
      const matching = this.tasks
        .filter((task) => task.status === input.desiredStatus)
        .map((task) => task.arn);
      const start = Number(input.nextToken ?? 0);
      const end = start + (input.maxResults ?? 100);
      return {
        taskArns: matching.slice(start, end),
        nextToken: end < matching.length ? String(end) : undefined,
      };
    }
    if (command instanceof DescribeTasksCommand) {
      const input: DescribeTasksCommandInput = command.input;
      if ((input.tasks?.length ?? 0) > 100) throw new Error('DescribeTasks takes at most 100 tasks');
      this.describedBatches.push(input.tasks?.length ?? 0);
      const withTags = input.include?.includes('TAGS') === true;
      return {
        tasks: this.tasks
          .filter((task) => input.tasks?.includes(task.arn))
          .map((task) => ({
            taskArn: task.arn,
            startedBy: 'AWS Step Functions',
            tags: withTags && task.runId !== undefined ? [{ key: runIdTag, value: task.runId }] : undefined,
          })),
      };
    }
    if (command instanceof StopTaskCommand) {
      this.stopped.push(command.input);
      return {};
    }
    throw new Error(`unexpected command ${String(command)}`);
  }
}

const runtime: EcsCellRuntime = {
  kind: 'ecs',
  clusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/datakit-dev-analytics',
  stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:datakit-dev-analytics-runs',
  executionRoleArn: 'arn:aws:iam::123456789012:role/execution',
  taskRoleArn: 'arn:aws:iam::123456789012:role/task',
  logGroupName: '/datakit/dev/analytics',
  subnets: ['subnet-1'],
  securityGroups: ['sg-1'],
  assignPublicIp: false,
};

const noCache = { get: async () => undefined, put: async () => undefined };

describe('EcsTaskControl', () => {
  it("finds a run's live tasks by their run-id tag, across pages of the cluster's tasks", async () => {
    const tasks = [
      ...Array.from({ length: 230 }, (_, i) => ({
        arn: `task/other-${i}`,
        status: 'RUNNING' as const,
        runId: `r${i}`,
      })),
      { arn: 'task/mine-running', status: 'RUNNING' as const, runId: 'run-7' },
      { arn: 'task/untagged', status: 'RUNNING' as const },
      { arn: 'task/mine-pending', status: 'PENDING' as const, runId: 'run-7' },
      { arn: 'task/mine-stopped', status: 'STOPPED' as const, runId: 'run-7' },
    ];
    const ecs = new FakeEcs(tasks);
    const control = new EcsTaskControl(ecs, noCache);

    expect(await control.runTaskArns(runtime, 'run-7')).toEqual(['task/mine-running', 'task/mine-pending']);
    expect(ecs.describedBatches).toEqual([100, 100, 32, 1]);
  });

  it('stops only the tasks tagged with the run id, with the reason cut to what ECS accepts', async () => {
    const ecs = new FakeEcs([
      { arn: 'task/a', status: 'RUNNING', runId: 'run-1' },
      { arn: 'task/b', status: 'RUNNING', runId: 'run-2' },
      { arn: 'task/c', status: 'PENDING', runId: 'run-1' },
    ]);
    await new EcsTaskControl(ecs, noCache).stopRunTasks(runtime, 'run-1', 'x'.repeat(300));

    expect(ecs.stopped.map((input) => input.task)).toEqual(['task/a', 'task/c']);
    expect(
      ecs.stopped.every((input) => input.reason?.length === 255 && input.cluster === runtime.clusterArn),
    ).toBe(true);
  });

  it('stops nothing, and is no error, when the run has no live task', async () => {
    const ecs = new FakeEcs([]);
    await new EcsTaskControl(ecs, noCache).stopRunTasks(runtime, 'run-1', 'cancelled');
    expect(ecs.stopped).toEqual([]);
    expect(ecs.describedBatches).toEqual([]);
  });
});
