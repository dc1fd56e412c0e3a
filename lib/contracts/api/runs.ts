import * as z from 'zod';
import { cellNameSchema } from './cells.js';
import { dnsNameSchema, pageSchema, paginationQuerySchema } from './common.js';
import { packagePathSchema } from './packages.js';

export const runStatuses = ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'CANCELLED'] as const;
export const runStatusSchema = z.enum(runStatuses);
export type RunStatus = z.infer<typeof runStatusSchema>;

/** Statuses a run never leaves. */
export const terminalRunStatuses: ReadonlySet<RunStatus> = new Set([
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'CANCELLED',
]);

export const triggerTypes = ['manual', 'on-change', 'schedule'] as const;
export const triggerTypeSchema = z.enum(triggerTypes);
export type TriggerType = z.infer<typeof triggerTypeSchema>;

/** An upstream run whose output update triggered this run. */
export const upstreamRunSchema = z.object({
  dataset: z.object({ namespace: z.string(), name: z.string() }),
  runId: z.string(),
});

/** Why a run started. */
export const runTriggerSchema = z
  .object({
    type: triggerTypeSchema,
    /** on-change: the upstream runs this run covers (several when coalesced). */
    upstream: z.array(upstreamRunSchema).optional(),
    /** schedule: the tick this run is for. */
    scheduledTime: z.string().optional(),
    /** on-change: how many updates collapsed into this run. */
    coalesced: z.number().int().nonnegative().optional(),
    /** on-change: the chain of consumers that led here (cycle cut at run time). */
    chain: z.array(z.string()).optional(),
  })
  .meta({ id: 'RunTrigger' });

export type RunTrigger = z.infer<typeof runTriggerSchema>;

export const environmentNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,15}$/, 'must be an environment name');

/** A run as the API shows it. */
export const runSchema = z
  .object({
    runId: z.uuid(),
    namespace: z.string(),
    name: z.string(),
    version: z.string(),
    digest: z.string(),
    env: environmentNameSchema,
    cell: cellNameSchema,
    trigger: runTriggerSchema,
    status: runStatusSchema,
    createdAt: z.string(),
    startedAt: z.string().optional(),
    finishedAt: z.string().optional(),
    durationMs: z.number().int().nonnegative().optional(),
    exitCode: z.number().int().optional(),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
    /** The OpenLineage identity of this run: job = the package, run id = this run's id. */
    lineage: z.object({ namespace: z.string(), name: z.string(), runId: z.string() }),
    /** Who asked for it (manual runs). */
    requestedBy: z.string().optional(),
  })
  .meta({ id: 'Run' });

export type Run = z.infer<typeof runSchema>;

export const runPageSchema = pageSchema(runSchema).meta({ id: 'RunPage' });

/** `POST /v1/runs`: a manual run of the version deployed in `env` × `cell`. */
export const createRunBodySchema = z.strictObject({
  namespace: z.string().min(1).max(253),
  name: dnsNameSchema,
  cell: cellNameSchema,
  env: environmentNameSchema.default('dev'),
});

export const runPathSchema = z.object({ runId: z.uuid() });

export const listRunsQuerySchema = paginationQuerySchema.extend({
  namespace: z.string().min(1).max(253).optional(),
  name: dnsNameSchema.optional(),
  cell: cellNameSchema.optional(),
  status: runStatusSchema.optional(),
  trigger: triggerTypeSchema.optional(),
});

export const runLogsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(10_000).default(200),
});

export const runLogsSchema = z
  .object({
    runId: z.uuid(),
    lines: z.array(
      z.object({
        at: z.string().optional(),
        stream: z.enum(['stdout', 'stderr', 'combined']),
        message: z.string(),
      }),
    ),
  })
  .meta({ id: 'RunLogs' });

export { packagePathSchema };
