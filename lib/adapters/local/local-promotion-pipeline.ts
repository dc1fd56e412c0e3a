import type { Logger } from '@aws-lambda-powertools/logger';
import type { PromotionRecord } from '../../ports/deployment-store.js';
import type { PipelineExecution, PromotionPipeline } from '../../ports/promotion-pipeline.js';

/** The stages the in-process pipeline runs once a promotion's approvals are complete. */
export interface LocalPipelineStages {
  guard(promotionId: string): Promise<unknown>;
  deploy(promotionId: string): Promise<unknown>;
}

/** Prefix of the embedded mode's pipeline names (`embedded-int`). */
export const localPipelinePrefix = 'embedded-';

/**
 * The promotion pipeline of the embedded mode: the same stages as an environment's CodePipeline, run in
 * process with the same use cases. Validate ran with the request; the approvals are the recorded
 * decisions themselves; once they are complete (the promotion is DEPLOYING) Guard and then Deploy run in
 * the background, as CodePipeline runs them after its last approval. Nothing is kept in memory that the
 * table does not hold: after a restart `resume` picks up promotions left DEPLOYING.
 */
export class LocalPromotionPipeline implements PromotionPipeline {
  private stages: LocalPipelineStages | undefined;
  private readonly running = new Map<string, Promise<void>>();

  constructor(private readonly logger: Logger) {}

  /** The stage use cases (built after this adapter, which they depend on). */
  bind(stages: LocalPipelineStages): void {
    this.stages = stages;
  }

  async start(promotion: PromotionRecord): Promise<PipelineExecution> {
    return {
      name: `${localPipelinePrefix}${promotion.env}`,
      executionId: `${localPipelinePrefix}${promotion.id}`,
    };
  }

  async syncDecisions(promotion: PromotionRecord): Promise<void> {
    if (promotion.status === 'DEPLOYING') this.continue(promotion.id);
  }

  /** Runs Guard and Deploy of a promotion whose approvals are complete, once at a time per promotion. */
  continue(promotionId: string): void {
    const stages = this.stages;
    if (stages === undefined) throw new Error('the local promotion pipeline has no stages bound');
    if (this.running.has(promotionId)) return;
    const run = (async () => {
      try {
        await stages.guard(promotionId);
        await stages.deploy(promotionId);
      } catch (error) {
        // The stage recorded the failure on the promotion (FAILED with its code); nothing is left to do.
        this.logger.warn('promotion stage refused', { promotionId, error });
      } finally {
        this.running.delete(promotionId);
      }
    })();
    this.running.set(promotionId, run);
  }

  /** Waits for every stage run in flight. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running.values());
  }
}
