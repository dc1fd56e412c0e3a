import type { SQSBatchResponse } from 'aws-lambda';
import * as z from 'zod';
import {
  scheduleInvocationSchema,
  type TriggerEvents,
  triggerEnvelopeSchema,
} from '../../lib/domain/triggers/trigger-events.js';
import { lambdaDependencies } from '../../lib/runtime/lambda.js';
import { awsRunAdapters } from '../../lib/runtime/wiring/aws-runs.js';
import { createRunPlane, withRunPlaneBase } from '../../lib/runtime/wiring/runs.js';
import type { SharedDependencies } from '../../lib/runtime/wiring/shared.js';

const sqsEventSchema = z.object({ Records: z.array(z.object({ messageId: z.string(), body: z.string() })) });

export type TriggerWorker = (event: unknown) => Promise<SQSBatchResponse | unknown>;

/**
 * The trigger function (ADR 0013): the bus rule's SQS queue delivers `DataSet Updated` and run ends in
 * batches (a failed message alone is retried, then dead-lettered: partial batch responses); EventBridge
 * Scheduler invokes it directly with a deployment's tick.
 */
export function createTriggerWorker(deps: SharedDependencies, triggers: TriggerEvents): TriggerWorker {
  return async (event) => {
    const tick = scheduleInvocationSchema.safeParse(event);
    if (tick.success) return triggers.onScheduleTick(tick.data.tick);
    const batch = sqsEventSchema.parse(event);
    const batchItemFailures: { itemIdentifier: string }[] = [];
    for (const record of batch.Records) {
      try {
        const envelope = triggerEnvelopeSchema.safeParse(JSON.parse(record.body));
        if (!envelope.success) {
          // Not ours to retry: a malformed message would fail forever.
          deps.logger.error('trigger message is not an event of the bus', { messageId: record.messageId });
          continue;
        }
        await triggers.onEvent(envelope.data);
      } catch (error) {
        deps.logger.warn('trigger message failed; it will be retried', {
          messageId: record.messageId,
          error,
        });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };
}

let instance: Promise<TriggerWorker> | undefined;
export const handler = async (event: unknown): Promise<unknown> => {
  instance ??= lambdaDependencies(withRunPlaneBase).then((deps) =>
    createTriggerWorker(deps, createRunPlane(deps, awsRunAdapters(deps)).triggerEvents),
  );
  return (await instance)(event);
};
