import { codePipelineEventSchema } from '../../lib/contracts/events/codepipeline.js';
import type { Promotions } from '../../lib/domain/promotions/promotions.js';
import { lambdaDependencies } from '../../lib/runtime/lambda.js';
import { awsRunAdapters } from '../../lib/runtime/wiring/aws-runs.js';
import { createRunPlane, withRunPlaneBase } from '../../lib/runtime/wiring/runs.js';
import type { SharedDependencies } from '../../lib/runtime/wiring/shared.js';

const levels = {
  'CodePipeline Pipeline Execution State Change': 'pipeline',
  'CodePipeline Stage Execution State Change': 'stage',
  'CodePipeline Action Execution State Change': 'action',
} as const;

/**
 * The target of the promotion pipelines' state-change rule: moves the promotion of the execution forward
 * (idempotently, never back). Executions that run no promotion (the one CodePipeline starts when a
 * pipeline is created) are ignored; failures are thrown, for EventBridge's and Lambda's retries.
 */
export function createPromotionEventsHandler(
  deps: Pick<SharedDependencies, 'logger'>,
  promotions: Pick<Promotions, 'onPipelineStateChange'>,
) {
  return async (event: unknown): Promise<void> => {
    const parsed = codePipelineEventSchema.safeParse(event);
    if (!parsed.success) {
      deps.logger.error('event is not a CodePipeline state change', { issues: parsed.error.issues });
      return;
    }
    const { detail, time } = parsed.data;
    const promotion = await promotions.onPipelineStateChange({
      level: levels[parsed.data['detail-type']],
      executionId: detail['execution-id'],
      state: detail.state,
      stage: detail.stage,
      action: detail.action,
      at: time,
    });
    deps.logger.info('pipeline state change', {
      pipeline: detail.pipeline,
      executionId: detail['execution-id'],
      stage: detail.stage,
      action: detail.action,
      state: detail.state,
      promotionId: promotion?.id,
      status: promotion?.status,
    });
  };
}

let instance: Promise<ReturnType<typeof createPromotionEventsHandler>> | undefined;
export const handler = async (event: unknown): Promise<void> => {
  instance ??= lambdaDependencies(withRunPlaneBase).then((deps) =>
    createPromotionEventsHandler(deps, createRunPlane(deps, awsRunAdapters(deps)).promotions),
  );
  await (await instance)(event);
};
