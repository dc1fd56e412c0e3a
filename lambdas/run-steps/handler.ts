import type { RunStep } from '../../lib/domain/runs/run-steps.js';
import { awsRunAdapters } from '../../lib/runtime/aws-run-adapters.js';
import { lambdaDependencies } from '../../lib/runtime/dependencies.js';
import { createRunPlane } from '../../lib/runtime/run-plane.js';

/**
 * Prepare, Complete and Fail of every cell's run state machine (`lambda:invoke` with `{step, runId, …}`).
 * Errors leave with their code as name, so the state machine's Catch and the Fail step see the reason.
 */
let instance: Promise<RunStep> | undefined;
export const handler = async (payload: unknown): Promise<unknown> => {
  instance ??= lambdaDependencies().then((deps) => createRunPlane(deps, awsRunAdapters(deps)).runSteps);
  return (await instance)(payload);
};
