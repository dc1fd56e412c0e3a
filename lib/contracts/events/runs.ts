import * as z from 'zod';
import { runStatusSchema, runTriggerSchema } from '../api/runs.js';

/** Detail of `Run Started`, `Run Succeeded` and `Run Failed` (the latter also for TIMED_OUT and CANCELLED). */
export const runEventDetailSchema = z
  .object({
    runId: z.string(),
    namespace: z.string(),
    name: z.string(),
    version: z.string(),
    digest: z.string(),
    env: z.string(),
    cell: z.string(),
    status: runStatusSchema,
    trigger: runTriggerSchema,
    startedAt: z.string().optional(),
    finishedAt: z.string().optional(),
    exitCode: z.number().int().optional(),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
  })
  .meta({ id: 'RunEventDetail' });

export type RunEventDetail = z.infer<typeof runEventDetailSchema>;

/** Detail of `Package Deployed`: a version became the deployed one of an environment and cell. */
export const packageDeployedDetailSchema = z
  .object({
    namespace: z.string(),
    name: z.string(),
    version: z.string(),
    digest: z.string(),
    env: z.string(),
    cell: z.string(),
    promotionId: z.string(),
    previousVersion: z.string().optional(),
    deployedAt: z.string(),
  })
  .meta({ id: 'PackageDeployedDetail' });

export type PackageDeployedDetail = z.infer<typeof packageDeployedDetailSchema>;
