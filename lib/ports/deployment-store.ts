import type { Deployment } from '../contracts/api/deployments.js';
import type { Promotion, PromotionStatus } from '../contracts/api/promotions.js';
import type { Page } from './package-repository.js';

/** A deployment as stored, with its optimistic-locking revision. */
export interface DeploymentRecord extends Deployment {
  readonly revision: number;
}

/** A promotion as stored, with its optimistic-locking revision. */
export interface PromotionRecord extends Promotion {
  readonly revision: number;
}

export interface ListPromotionsQuery {
  readonly namespace?: string | undefined;
  readonly name?: string | undefined;
  readonly env?: string | undefined;
  readonly status?: PromotionStatus | undefined;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

/** Deployment state (what runs where) and the promotions that change it (ADR 0006). */
export interface DeploymentRepository {
  getDeployment(
    namespace: string,
    name: string,
    env: string,
    cell: string,
  ): Promise<DeploymentRecord | undefined>;
  /** Every deployment of a package, in every environment and cell. */
  listDeploymentsOfPackage(namespace: string, name: string): Promise<DeploymentRecord[]>;
  /** Deployments of an environment, optionally of one cell, ordered by cell and package. */
  listDeploymentsOfEnvironment(
    env: string,
    query: {
      readonly cell?: string | undefined;
      readonly limit: number;
      readonly cursor?: string | undefined;
    },
  ): Promise<Page<DeploymentRecord>>;
  /**
   * The commit of a deployment: writes it if the stored revision is still `expectedRevision` (0: must not
   * exist). Throws ConcurrentModificationError otherwise.
   */
  commitDeployment(deployment: DeploymentRecord, expectedRevision: number): Promise<DeploymentRecord>;
  getPromotion(id: string): Promise<PromotionRecord | undefined>;
  listPromotions(query: ListPromotionsQuery): Promise<Page<PromotionRecord>>;
  /** Writes the promotion if its stored revision is still `expectedRevision` (0: must not exist). */
  putPromotion(promotion: PromotionRecord, expectedRevision: number): Promise<PromotionRecord>;
}

/** The promotion a package × environment × cell is locked by (one open promotion at a time). */
export interface PromotionLockHolder {
  readonly promotionId: string;
  readonly at: string;
  readonly revision: number;
}

export interface PromotionLockTarget {
  readonly namespace: string;
  readonly name: string;
  readonly env: string;
  readonly cell: string;
}

/** What promotions store besides their records: the open-promotion locks and pipeline executions. */
export interface PromotionRepository
  extends Pick<DeploymentRepository, 'getPromotion' | 'listPromotions' | 'putPromotion' | 'getDeployment'> {
  /**
   * Takes the lock of a package × environment × cell for a promotion if nobody holds it; otherwise
   * answers its holder (which may be this promotion already).
   */
  claimPromotionLock(
    target: PromotionLockTarget,
    promotionId: string,
    at: string,
  ): Promise<{ readonly claimed: true } | { readonly claimed: false; readonly holder: PromotionLockHolder }>;
  /** Takes over a lock whose holder ended, if it is still at `expectedRevision`; false when it moved on. */
  takeOverPromotionLock(
    target: PromotionLockTarget,
    promotionId: string,
    at: string,
    expectedRevision: number,
  ): Promise<boolean>;
  /** Remembers which promotion a pipeline execution runs (idempotent). */
  recordPipelineExecution(executionId: string, promotionId: string): Promise<void>;
  /** The promotion a pipeline execution runs, if it is one of ours. */
  promotionOfExecution(executionId: string): Promise<string | undefined>;
}
