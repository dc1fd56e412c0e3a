import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { SlotId } from '../../domain/triggers/model.js';
import { type ScheduleSpec, scheduleName, toSchedulerExpression } from '../../domain/triggers/schedule.js';
import type { ScheduleControl } from '../../ports/schedule-control.js';

/** The SDK module on first use: a bundle's static SDK imports all load at init (ADR 0012). */
const sdk = () => import('@aws-sdk/client-scheduler');

export interface SchedulerTarget {
  /** The schedule group of the stage (`datakit-{stage}`). */
  readonly groupName: string;
  /** The trigger function the schedules invoke. */
  readonly functionArn: string;
  /** The role EventBridge Scheduler assumes; it may only invoke the trigger function. */
  readonly roleArn: string;
  /** Where ticks that could not be delivered after the retries go. */
  readonly deadLetterQueueArn: string;
}

/**
 * Deployment schedules in EventBridge Scheduler: 6-field cron in the Transform's time zone (converted from
 * its 5-field cron), targeting the trigger function with the deployment and the tick's scheduled time, so
 * each tick starts one run (deduplicated on the schedule and its scheduled time).
 */
export class EventBridgeScheduleControl implements ScheduleControl {
  constructor(
    private readonly client: Pick<SchedulerClient, 'send'>,
    private readonly target: SchedulerTarget,
  ) {}

  async put(id: SlotId, spec: ScheduleSpec): Promise<void> {
    const { expression, timezone } = toSchedulerExpression(spec.cron, spec.timezone);
    const input = {
      Name: scheduleName(id),
      GroupName: this.target.groupName,
      ScheduleExpression: expression,
      ScheduleExpressionTimezone: timezone,
      FlexibleTimeWindow: { Mode: 'OFF' as const },
      State: 'ENABLED' as const,
      Description: `DataKit: ${id.namespace}/${id.name} in ${id.env}/${id.cell}`,
      Target: {
        Arn: this.target.functionArn,
        RoleArn: this.target.roleArn,
        Input: JSON.stringify({
          source: 'datakit.schedule',
          tick: { ...id, scheduledTime: '<aws.scheduler.scheduled-time>' },
        }),
        RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: this.target.deadLetterQueueArn },
      },
    };
    const { ConflictException, CreateScheduleCommand, UpdateScheduleCommand } = await sdk();
    try {
      await this.client.send(new CreateScheduleCommand(input));
    } catch (error) {
      if (!(error instanceof ConflictException)) throw error;
      await this.client.send(new UpdateScheduleCommand(input));
    }
  }

  async delete(id: SlotId): Promise<void> {
    const { DeleteScheduleCommand, ResourceNotFoundException } = await sdk();
    try {
      await this.client.send(
        new DeleteScheduleCommand({ Name: scheduleName(id), GroupName: this.target.groupName }),
      );
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }
}
