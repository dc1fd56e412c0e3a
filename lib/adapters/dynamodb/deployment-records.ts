import * as z from 'zod';
import { cellSchema, cellStoreSchema } from '../../contracts/api/cells.js';
import { deploymentSchema } from '../../contracts/api/deployments.js';
import { promotionSchema } from '../../contracts/api/promotions.js';
import { runSchema, runStatusSchema } from '../../contracts/api/runs.js';

/**
 * The stored shapes of cells, Stores, deployments, promotions and runs: the API shapes plus what only
 * storage needs (revisions), read back through these schemas so a malformed item fails loudly.
 */
const revision = z.number().int().nonnegative();

export const cellRecordSchema = cellSchema.omit({ storeCount: true }).extend({ revision });
export const storeRecordSchema = cellStoreSchema;
export const deploymentRecordSchema = deploymentSchema.extend({ revision });
export const promotionRecordSchema = promotionSchema.extend({ revision });
const runDataSetIoSchema = z.object({
  namespace: z.string(),
  name: z.string(),
  cell: z.string(),
  lineage: z.object({ namespace: z.string(), name: z.string() }),
  schema: z.array(z.object({ name: z.string(), type: z.string() })).optional(),
});

export const runRecordSchema = runSchema.extend({
  io: z.object({ inputs: z.array(runDataSetIoSchema), outputs: z.array(runDataSetIoSchema) }).optional(),
  lineageEnabled: z.boolean().optional(),
  mode: z.enum(['batch', 'streaming']).optional(),
  family: z.string().optional(),
  taskArn: z.string().optional(),
  updatedAt: z.string(),
  revision,
});
export const lastRunItemSchema = z.object({
  env: z.string(),
  cell: z.string(),
  runId: z.string(),
  status: runStatusSchema,
  createdAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
});
