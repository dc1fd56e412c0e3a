import * as z from 'zod';

/**
 * Detail of `Consumer Paused` and `Consumer Resumed`: a consumer's on-change trigger in one environment
 * and cell stopped after `consecutiveFailures` failed runs in a row, or started again after a manual run
 * succeeded. Published at least once (a retried delivery publishes again; dedupe on `runId`).
 */
export const consumerTriggerDetailSchema = z
  .object({
    namespace: z.string(),
    name: z.string(),
    env: z.string(),
    cell: z.string(),
    /** Paused: the run whose failure paused it. Resumed: the manual run whose success resumed it. */
    runId: z.string(),
    paused: z.boolean(),
    consecutiveFailures: z.number().int().nonnegative(),
    pausedAt: z.string().optional(),
  })
  .meta({ id: 'ConsumerTriggerDetail' });

export type ConsumerTriggerDetail = z.infer<typeof consumerTriggerDetailSchema>;
