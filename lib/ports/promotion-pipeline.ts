import type { PromotionRecord } from './deployment-store.js';

/** A pipeline execution of a promotion: CodePipeline's in AWS, the in-process stages' in embedded mode. */
export interface PipelineExecution {
  readonly name: string;
  readonly executionId: string;
}

/**
 * The stages of an environment with approvals (ADR "Promotion approvals"): Validate → one approval per
 * required group → Guard → Deploy. AWS runs them as the environment's CodePipeline V2 pipeline; embedded
 * mode runs the same stage use cases in process.
 */
export interface PromotionPipeline {
  /**
   * Starts the stages of a promotion awaiting approval. Idempotent per promotion: a second start of the
   * same promotion answers the same execution.
   */
  start(promotion: PromotionRecord): Promise<PipelineExecution>;
  /**
   * Hands every decision recorded on the promotion to the approval actions of its execution still waiting
   * for one (CodePipeline: ListActionExecutions of the execution → each waiting action's token →
   * PutApprovalResult): approvals to their group's action, a rejection to every waiting action. Actions
   * that already took a decision, or that the execution has not reached yet, are left alone (the Approve
   * stage's start syncs again). When the approvals are complete the pipeline goes on to Guard and Deploy.
   */
  syncDecisions(promotion: PromotionRecord): Promise<void>;
}
