import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { CellRuntime } from '../../contracts/api/cells.js';
import { transformContainerName } from '../../contracts/workflows/run-state-machine.js';
import type { LogLine, RunLogs } from '../../ports/run-logs.js';

/** The SDK module on first use: a bundle's static SDK imports all load at init (ADR 0012). */
const sdk = () => import('@aws-sdk/client-cloudwatch-logs');

/** How the run's task is found once it is known: ECS task ARN → the awslogs stream. */
export type TaskArnOf = (runId: string) => Promise<string | undefined>;

/**
 * A run's output from CloudWatch Logs: the awslogs driver writes `{family}/transform/{taskId}` in the
 * cell's log group (the stream prefix is the task-definition family).
 */
export class CloudWatchRunLogs implements RunLogs {
  constructor(
    private readonly client: Pick<CloudWatchLogsClient, 'send'>,
    private readonly taskArnOf: TaskArnOf,
  ) {}

  async tail(
    runtime: CellRuntime,
    run: { readonly runId: string; readonly family: string },
    limit: number,
  ): Promise<LogLine[]> {
    if (runtime.kind !== 'ecs' || run.family === '') return [];
    const taskArn = await this.taskArnOf(run.runId);
    const taskId = taskArn?.split('/').pop();
    if (taskId === undefined) return [];
    const { GetLogEventsCommand, ResourceNotFoundException } = await sdk();
    try {
      const output = await this.client.send(
        new GetLogEventsCommand({
          logGroupName: runtime.logGroupName,
          logStreamName: `${run.family}/${transformContainerName}/${taskId}`,
          startFromHead: false,
          limit,
        }),
      );
      return (output.events ?? []).map((event) => ({
        ...(event.timestamp === undefined ? {} : { at: new Date(event.timestamp).toISOString() }),
        stream: 'combined' as const,
        message: event.message ?? '',
      }));
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return [];
      throw error;
    }
  }
}
