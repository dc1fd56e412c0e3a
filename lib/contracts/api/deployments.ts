import * as z from 'zod';
import { cellNameSchema } from './cells.js';
import { pageSchema, paginationQuerySchema } from './common.js';
import { manifestKindSchema } from './packages.js';
import { environmentNameSchema, runStatusSchema } from './runs.js';

/** One version a deployment held, newest first in its history. */
export const deploymentHistoryEntrySchema = z.object({
  version: z.string(),
  digest: z.string(),
  deployedAt: z.string(),
  promotionId: z.string(),
});

/** What a Transform version declares about how it is triggered, as deployed. */
export const deployedTriggerSchema = z.object({
  policy: z.enum(['schedule', 'on-change', 'manual', 'composite']),
  policies: z.array(z.enum(['schedule', 'on-change', 'manual'])).optional(),
  cron: z.string().optional(),
  timezone: z.string().optional(),
});

/** A DataSet a deployed Transform reads or writes, with the cell whose Store holds it. */
export const deployedDataSetSchema = z.object({
  namespace: z.string(),
  name: z.string(),
  cell: z.string(),
  /** Its OpenLineage identity in that cell (naming conventions from the Store). */
  lineage: z.object({ namespace: z.string(), name: z.string() }).optional(),
});

export type DeployedDataSet = z.infer<typeof deployedDataSetSchema>;

/** Which version of a package is deployed in an environment and cell (ADR 0006). */
export const deploymentSchema = z
  .object({
    namespace: z.string(),
    name: z.string(),
    env: environmentNameSchema,
    cell: cellNameSchema,
    kind: manifestKindSchema,
    version: z.string(),
    digest: z.string(),
    deployedAt: z.string(),
    /** The promotion that put this version here. */
    promotionId: z.string(),
    /** `batch` or `streaming` for Transforms. */
    mode: z.enum(['batch', 'streaming']).optional(),
    replicas: z.number().int().positive().optional(),
    trigger: deployedTriggerSchema.optional(),
    /** A Transform's inputs and outputs as deployed (the reactive graph of a cell; stale subscriptions). */
    inputs: z.array(deployedDataSetSchema).optional(),
    outputs: z.array(deployedDataSetSchema).optional(),
    /** Earlier versions, newest first (at most 10): what a rollback returns to. */
    history: z.array(deploymentHistoryEntrySchema),
  })
  .meta({ id: 'Deployment' });

export type Deployment = z.infer<typeof deploymentSchema>;

export const deploymentPageSchema = pageSchema(deploymentSchema).meta({ id: 'DeploymentPage' });

export const environmentPathSchema = z.object({ env: environmentNameSchema });
export const listDeploymentsQuerySchema = paginationQuerySchema.extend({ cell: cellNameSchema.optional() });

/** The last run of a deployment, as status shows it. */
export const lastRunSchema = z.object({
  runId: z.string(),
  status: runStatusSchema,
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
});

/** The promotion a status row is waiting on (`Promoting`) or that last failed there (`Failed`). */
export const statusPromotionSchema = z.object({
  id: z.string(),
  version: z.string(),
  status: z.string(),
  /** Required groups still to approve (a promotion awaiting approval). */
  pendingGroups: z.array(z.string()),
  rollback: z.boolean(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});

/**
 * One row of `dk status`: a package in one environment and cell. The version, digest, time and promotion
 * of what is deployed there are absent while nothing is (a first promotion that awaits approval or
 * failed).
 */
export const packageStatusRowSchema = z
  .object({
    env: environmentNameSchema,
    cell: cellNameSchema,
    version: z.string().optional(),
    digest: z.string().optional(),
    status: z.enum(['Deployed', 'Promoting', 'Failed']),
    deployedAt: z.string().optional(),
    /** The promotion that put the deployed version there. */
    promotionId: z.string().optional(),
    /** `Promoting`: the open promotion; `Failed`: the promotion that failed after the deployment. */
    promotion: statusPromotionSchema.optional(),
    lastRun: lastRunSchema.optional(),
    /** Streaming Transforms: replicas desired and running. */
    replicas: z.object({ desired: z.number().int(), running: z.number().int() }).optional(),
    /** On-change Transforms: failures in a row, and whether on-change triggering is paused (a manual success resumes it). */
    trigger: z
      .object({ paused: z.boolean(), consecutiveFailures: z.number().int(), pausedAt: z.string().optional() })
      .optional(),
  })
  .meta({ id: 'PackageStatusRow' });

export const packageStatusSchema = z
  .object({ namespace: z.string(), name: z.string(), deployments: z.array(packageStatusRowSchema) })
  .meta({ id: 'PackageStatus' });

export type PackageStatus = z.infer<typeof packageStatusSchema>;
