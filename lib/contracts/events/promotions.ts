import * as z from 'zod';

const promotionIdentity = {
  promotionId: z.string(),
  namespace: z.string(),
  name: z.string(),
  version: z.string(),
  env: z.string(),
  cell: z.string(),
};

/** Detail of `Promotion Requested`: a promotion was recorded (dev deploys at once; others await approvals). */
export const promotionRequestedDetailSchema = z
  .object({
    ...promotionIdentity,
    requestedBy: z.string(),
    requiredApprovals: z.array(z.string()),
    rollback: z.boolean(),
    override: z.boolean(),
    expiresAt: z.string().optional(),
    /**
     * Governed environments: the paths along which PII would reach DataSets classified below confidential
     * (`crm/users → sales/daily`), and whether a governance override lets the promotion wait for `security`.
     */
    governance: z.object({ violations: z.array(z.string()), override: z.boolean() }).optional(),
  })
  .meta({ id: 'PromotionRequestedDetail' });

/** Detail of `Promotion Approved`: one group approved; `pendingGroups` empty means the deploy follows. */
export const promotionApprovedDetailSchema = z
  .object({
    ...promotionIdentity,
    group: z.string(),
    approvedBy: z.string(),
    pendingGroups: z.array(z.string()),
  })
  .meta({ id: 'PromotionApprovedDetail' });

/** Detail of `Promotion Rejected`: a member of a required group rejected it; it ended REJECTED. */
export const promotionRejectedDetailSchema = z
  .object({ ...promotionIdentity, group: z.string(), rejectedBy: z.string(), comment: z.string().optional() })
  .meta({ id: 'PromotionRejectedDetail' });

export type PromotionRequestedDetail = z.infer<typeof promotionRequestedDetailSchema>;
export type PromotionApprovedDetail = z.infer<typeof promotionApprovedDetailSchema>;
export type PromotionRejectedDetail = z.infer<typeof promotionRejectedDetailSchema>;
