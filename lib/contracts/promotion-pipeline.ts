/**
 * What the promotion pipelines and the code that drives them agree on (ADR "Promotion approvals"): the
 * CDK construct builds the pipelines with these names, the CodePipeline adapter starts and approves
 * through them, and the stages function reads the action parameters.
 */

/** The name of an environment's promotion pipeline. */
export function promotionPipelineName(stage: string, env: string): string {
  return `${stage}-datakit-promote-${env}`;
}

/** The source action that reads the promotion request. */
export const requestActionName = 'Request';

/** The pipeline variable holding the promotion id (each execution sets it). */
export const promotionIdVariable = 'PROMOTION_ID';

/**
 * The pipeline variable with what the PII gate found (each execution sets it): the approval notifications
 * show it, so approvers see the violations a governance override asks them to accept.
 */
export const governanceVariable = 'GOVERNANCE';

/** The longest `GOVERNANCE` value: the notification's text (CustomData) is limited to 500 characters. */
export const maxGovernanceNoteLength = 150;

/** The stage holding one manual approval action per required group. */
export const approvalStageName = 'Approve';

/** Prefix of the approval actions' names. */
export const approvalActionPrefix = 'Approve-';

/** The manual approval action of a group. */
export function approvalActionName(group: string): string {
  return `${approvalActionPrefix}${group}`;
}

/** Where a promotion's request is written: the source object of its pipeline execution. */
export function promotionRequestKey(env: string, promotionId: string): string {
  return `requests/${env}/${promotionId}.json`;
}

/** The stages a Lambda action of the pipeline runs (`UserParameters.step`). */
export const pipelineSteps = ['validate', 'guard', 'deploy'] as const;
export type PipelineStep = (typeof pipelineSteps)[number];
