import * as z from 'zod';

/** The CodePipeline state-change events the promotion records follow. */
export const codePipelineDetailTypes = [
  'CodePipeline Pipeline Execution State Change',
  'CodePipeline Stage Execution State Change',
  'CodePipeline Action Execution State Change',
] as const;

/**
 * The EventBridge pattern of the promotion events rule, defined once: the stack deploys it on the default
 * bus (where CodePipeline publishes) and the tests match it against CodePipeline's event shapes. It names
 * the promotion pipelines, so other pipelines of the account never reach the function.
 */
export function promotionPipelineEventPattern(pipelineNames: readonly string[]) {
  return {
    source: ['aws.codepipeline'],
    'detail-type': [...codePipelineDetailTypes],
    detail: { pipeline: [...pipelineNames] },
  };
}

/** A CodePipeline state-change event (pipeline, stage or action level) as EventBridge delivers it. */
export const codePipelineEventSchema = z.object({
  'detail-type': z.enum(codePipelineDetailTypes),
  source: z.literal('aws.codepipeline'),
  time: z.string(),
  detail: z.looseObject({
    pipeline: z.string().min(1),
    'execution-id': z.string().min(1),
    state: z.string().min(1),
    stage: z.string().optional(),
    action: z.string().optional(),
    type: z.looseObject({ category: z.string().optional(), provider: z.string().optional() }).optional(),
  }),
});

export type CodePipelineEvent = z.infer<typeof codePipelineEventSchema>;

/**
 * The event CodePipeline sends a Lambda invoke action (`CodePipeline.job`): the job to report on, the
 * action's user parameters and the execution it belongs to.
 */
export const codePipelineJobEventSchema = z.object({
  'CodePipeline.job': z.object({
    id: z.string().min(1),
    data: z.looseObject({
      actionConfiguration: z.object({
        configuration: z.looseObject({ UserParameters: z.string().min(1) }),
      }),
      pipelineContext: z
        .looseObject({ pipelineName: z.string().optional(), pipelineExecutionId: z.string().optional() })
        .optional(),
    }),
  }),
});

export type CodePipelineJobEvent = z.infer<typeof codePipelineJobEventSchema>;
