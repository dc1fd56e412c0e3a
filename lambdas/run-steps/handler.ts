import type { RunStep } from '../../lib/domain/runs/run-steps.js';
import { lambdaDependencies } from '../../lib/runtime/lambda.js';
import { awsRunAdapters } from '../../lib/runtime/wiring/aws-runs.js';
import { createRunPlane, withRunPlaneBase } from '../../lib/runtime/wiring/runs.js';

/**
 * Prepare, Complete and Fail of every cell's run state machine (`lambda:invoke` with `{step, runId, …}`).
 * Errors leave with their code as name, so the state machine's Catch and the Fail step see the reason.
 */
let instance: Promise<RunStep> | undefined;
export const handler = async (payload: unknown): Promise<unknown> => {
  instance ??= lambdaDependencies(withRunPlaneBase).then(
    (deps) => createRunPlane(deps, awsRunAdapters(deps)).runSteps,
  );
  return (await instance)(payload);
};
