import * as z from 'zod';
import type { CodePipelineControl } from '../../lib/adapters/codepipeline/control.js';
import { codePipelineJobEventSchema } from '../../lib/contracts/events/codepipeline.js';
import { pipelineSteps } from '../../lib/contracts/promotion-pipeline.js';
import { DataKitError, DependencyUnavailableError } from '../../lib/domain/errors.js';
import type { PromotionStages } from '../../lib/domain/promotions/promotion-stages.js';
import { lambdaDependencies } from '../../lib/runtime/lambda.js';
import { awsRunAdapters } from '../../lib/runtime/wiring/aws-runs.js';
import { createRunPlane, withRunPlaneBase } from '../../lib/runtime/wiring/runs.js';
import { regionOf, type SharedDependencies, traced } from '../../lib/runtime/wiring/shared.js';

/** The action's `UserParameters`: which stage, for which promotion (the pipeline variable, resolved). */
const userParametersSchema = z.object({
  step: z.enum(pipelineSteps),
  promotionId: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'a promotion id'),
  /** The pipeline and its execution (`#{codepipeline.PipelineExecutionId}`), so Validate can record it. */
  pipeline: z.string().min(1).optional(),
  executionId: z.string().min(1).optional(),
});

export type JobResults = Pick<CodePipelineControl, 'putJobSuccessResult' | 'putJobFailureResult'>;

/**
 * The Validate, Guard and Deploy actions of the promotion pipelines (Lambda invoke actions). Each job runs
 * one stage use case and reports to CodePipeline: success, or a failure naming the refusal's code (the
 * stage recorded it on the promotion). Failures worth retrying are thrown instead, so Lambda retries the
 * invocation; the job fails on its own timeout if they persist.
 */
export function createPromotionStagesHandler(
  deps: Pick<SharedDependencies, 'logger'>,
  stages: PromotionStages,
  jobs: JobResults,
) {
  return async (event: unknown): Promise<void> => {
    const job = codePipelineJobEventSchema.parse(event)['CodePipeline.job'];
    const jobId = job.id;
    let parameters: z.infer<typeof userParametersSchema>;
    try {
      parameters = userParametersSchema.parse(
        JSON.parse(job.data.actionConfiguration.configuration.UserParameters),
      );
    } catch (error) {
      deps.logger.error('promotion stage without valid parameters', { jobId, error });
      await jobs.putJobFailureResult({
        jobId,
        failureDetails: { type: 'ConfigurationError', message: 'UserParameters must be {step, promotionId}' },
      });
      return;
    }
    const context = job.data.pipelineContext;
    const name = parameters.pipeline ?? context?.pipelineName;
    const executionId = parameters.executionId ?? context?.pipelineExecutionId;
    const execution = name === undefined || executionId === undefined ? undefined : { name, executionId };
    try {
      const promotion = await stages.run(parameters.step, parameters.promotionId, execution);
      deps.logger.info('promotion stage succeeded', {
        step: parameters.step,
        promotionId: parameters.promotionId,
        status: promotion.status,
      });
      await jobs.putJobSuccessResult({
        jobId,
        executionDetails: { summary: `${parameters.step}: promotion ${promotion.id} is ${promotion.status}` },
      });
    } catch (error) {
      if (!(error instanceof DataKitError) || error instanceof DependencyUnavailableError) throw error;
      deps.logger.info('promotion stage refused', { ...parameters, code: error.code });
      await jobs.putJobFailureResult({
        jobId,
        failureDetails: { type: 'JobFailed', message: `${error.code}: ${error.message}`.slice(0, 5000) },
      });
    }
  };
}

let instance: Promise<ReturnType<typeof createPromotionStagesHandler>> | undefined;
export const handler = async (event: unknown): Promise<void> => {
  instance ??= lambdaDependencies(withRunPlaneBase).then(async (deps) => {
    const [{ CodePipelineClient }, { codePipelineControl }] = await Promise.all([
      import('@aws-sdk/client-codepipeline'),
      import('../../lib/adapters/codepipeline/control.js'),
    ]);
    const plane = createRunPlane(deps, awsRunAdapters(deps));
    const control = await codePipelineControl(traced(deps, new CodePipelineClient(regionOf(deps.config))));
    return createPromotionStagesHandler(deps, plane.promotions.stages, control);
  });
  await (await instance)(event);
};
