import * as z from 'zod';
import { groupNameSchema } from '../identity.js';
import { cellNameSchema } from './cells.js';
import { dnsNameSchema, pageSchema, paginationQuerySchema } from './common.js';
import { violationSchema } from './governance.js';
import { environmentNameSchema } from './runs.js';

export const promotionStatuses = [
  'AWAITING_APPROVAL',
  'DEPLOYING',
  'DEPLOYED',
  'REJECTED',
  'EXPIRED',
  'FAILED',
] as const;
export const promotionStatusSchema = z.enum(promotionStatuses);
export type PromotionStatus = z.infer<typeof promotionStatusSchema>;

/** Statuses of a promotion still under way: one at most per package × environment × cell. */
export const openPromotionStatuses: ReadonlySet<PromotionStatus> = new Set([
  'AWAITING_APPROVAL',
  'DEPLOYING',
]);

/** Statuses a promotion never leaves. */
export const endedPromotionStatuses: ReadonlySet<PromotionStatus> = new Set([
  'DEPLOYED',
  'REJECTED',
  'EXPIRED',
  'FAILED',
]);

export const approvalSchema = z.object({
  group: z.string(),
  decision: z.enum(['approve', 'reject']),
  /** The caller as authenticated (an IAM ARN, or the embedded principal). */
  principal: z.string(),
  /** The person behind it: two approvals count as two only when their persons differ. */
  person: z.string(),
  comment: z.string().optional(),
  at: z.string(),
});

export type Approval = z.infer<typeof approvalSchema>;

/** The stages of a promotion, in order: those of an environment's pipeline (dev: Validate and Deploy). */
export const promotionStageNames = ['Validate', 'Approve', 'Guard', 'Deploy'] as const;
export const promotionStageNameSchema = z.enum(promotionStageNames);
export type PromotionStageName = z.infer<typeof promotionStageNameSchema>;

export const promotionStageSchema = z.object({
  name: promotionStageNameSchema,
  status: z.enum(['PENDING', 'IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'SKIPPED']),
  at: z.string().optional(),
  message: z.string().optional(),
});

/**
 * The PII gate of a governed environment (ADR "PII gate at promotion"): what it found when the promotion was
 * requested, and the override that let it proceed.
 */
export const promotionGovernanceSchema = z.object({
  checkedAt: z.string(),
  /**
   * `PII_UNDERCLASSIFIED`: the DataSets classified below confidential that PII would reach through this
   * version, each with its path (source first). Empty when the check passed.
   */
  violations: z.array(violationSchema),
  /** Lets a promotion with violations proceed; it then needs an approval of group `security`. Audited. */
  override: z.object({ reason: z.string() }).optional(),
});

export type PromotionGovernance = z.infer<typeof promotionGovernanceSchema>;

const overrideSchema = z.strictObject({ reason: z.string().trim().min(1).max(1024) });

/** A request to put a version into an environment and cell, and what became of it. */
export const promotionSchema = z
  .object({
    id: z.string(),
    namespace: z.string(),
    name: z.string(),
    version: z.string(),
    digest: z.string(),
    env: environmentNameSchema,
    cell: cellNameSchema,
    status: promotionStatusSchema,
    requestedBy: z.string(),
    requestedByPerson: z.string(),
    requiredApprovals: z.array(z.object({ group: z.string() })),
    approvals: z.array(approvalSchema),
    stages: z.array(promotionStageSchema),
    /** A rollback: the version it replaces (the one deployed when it was requested). */
    rollback: z.object({ fromVersion: z.string() }).optional(),
    /** Skips the dev → int → prod order check (never the approvals); audited. */
    override: z.object({ reason: z.string() }).optional(),
    /** Governed environments: the PII gate's findings and override. */
    governance: promotionGovernanceSchema.optional(),
    warnings: z.array(z.string()),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
    /** The environment's pipeline execution (AWS: CodePipeline; embedded: the in-process stages). */
    pipeline: z.object({ name: z.string(), executionId: z.string() }).optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
    /** When the approvals time out (environments with approvals). */
    expiresAt: z.string().optional(),
  })
  .meta({ id: 'Promotion' });

export type Promotion = z.infer<typeof promotionSchema>;

export const promotionPageSchema = pageSchema(promotionSchema).meta({ id: 'PromotionPage' });

/** `POST /v1/promotions`. */
export const createPromotionBodySchema = z.strictObject({
  namespace: z.string().min(1).max(253),
  name: dnsNameSchema,
  version: z.string().min(1).max(128),
  env: environmentNameSchema,
  cell: cellNameSchema,
  /** Skips the dev → int → prod order check. */
  override: overrideSchema.optional(),
  /** Proceeds although the PII gate of a governed environment finds violations; needs `security`'s approval. */
  governanceOverride: overrideSchema.optional(),
});

/** `POST /v1/promotions/{id}/approvals`. */
export const decidePromotionBodySchema = z.strictObject({
  decision: z.enum(['approve', 'reject']),
  /** The group the caller decides for; needed only when the caller is in several pending groups. */
  group: groupNameSchema.optional(),
  comment: z.string().trim().min(1).max(1024).optional(),
});

/** `POST /v1/rollbacks`. */
export const createRollbackBodySchema = z.strictObject({
  namespace: z.string().min(1).max(253),
  name: dnsNameSchema,
  env: environmentNameSchema,
  cell: cellNameSchema,
  /** A version of the deployment's history; by default the one deployed before the current one. */
  toVersion: z.string().min(1).max(128).optional(),
  /** As for a promotion: a rollback into a governed environment passes the same PII gate. */
  governanceOverride: overrideSchema.optional(),
});

export const promotionPathSchema = z.object({ id: z.string().min(1).max(64) });

export const listPromotionsQuerySchema = paginationQuerySchema.extend({
  namespace: z.string().min(1).max(253).optional(),
  name: dnsNameSchema.optional(),
  env: environmentNameSchema.optional(),
  status: promotionStatusSchema.optional(),
});
