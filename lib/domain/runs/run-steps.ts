import * as z from 'zod';
import { DataKitError, DependencyUnavailableError } from '../errors.js';
import type { Runs } from './runs.js';
import { stepErrorSchema } from './runs.js';

/** The payload the state machine's Lambda-task states send (`Payload` of `lambda:invoke`). */
export const runStepPayloadSchema = z.discriminatedUnion('step', [
  z.object({ step: z.literal('prepare'), runId: z.uuid() }),
  z.object({ step: z.literal('complete'), runId: z.uuid(), task: z.looseObject({}) }),
  z.object({ step: z.literal('fail'), runId: z.uuid(), error: stepErrorSchema }),
]);

export type RunStepPayload = z.infer<typeof runStepPayloadSchema>;

/**
 * An error as the state machine must see it: our refusals are named by their code (`DEPLOY_STORE_MISSING`,
 * `RUN_NO_LOCAL_COMMAND`) so the Fail step records that code; retryable dependency failures keep the
 * name the Retry clause matches; anything else keeps its own name.
 */
export function asStepError(error: unknown): Error {
  if (error instanceof DependencyUnavailableError) return error;
  if (error instanceof DataKitError) {
    const named = new Error(error.message, { cause: error });
    named.name = error.code;
    return named;
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** Serves Prepare, Complete and Fail: the `run-steps` function in AWS, the local overrides in embedded mode. */
export function makeRunSteps(runs: Runs) {
  return async function runStep(payload: unknown): Promise<unknown> {
    const parsed = runStepPayloadSchema.safeParse(payload);
    if (!parsed.success) {
      const invalid = new Error(`not a run step payload: ${parsed.error.message}`);
      invalid.name = 'RUN_STEP_INVALID';
      throw invalid;
    }
    const step = parsed.data;
    try {
      switch (step.step) {
        case 'prepare':
          return await runs.prepare(step.runId);
        case 'complete': {
          const run = await runs.complete(step.runId, {
            TaskArn: typeof step.task.TaskArn === 'string' ? step.task.TaskArn : '',
            Containers: Array.isArray(step.task.Containers) ? step.task.Containers : [],
          });
          return { runId: run.runId, status: run.status };
        }
        case 'fail': {
          const run = await runs.fail(step.runId, step.error);
          return { runId: run.runId, status: run.status };
        }
      }
    } catch (error) {
      throw asStepError(error);
    }
  };
}

export type RunStep = ReturnType<typeof makeRunSteps>;
