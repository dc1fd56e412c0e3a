import * as z from 'zod';
import { storeManifestSchema } from '../manifests/store.js';
import { dnsNameSchema, pageSchema, paginationQuerySchema } from './common.js';

/** Cell names are DNS-safe: they name stacks, clusters, task-definition families and secrets. */
export const cellNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,30}$/, 'must be a DNS-safe name of at most 31 characters');

export const cellPathSchema = z.object({ cell: cellNameSchema });

/** The CPU architectures Fargate runs; a cell's task definitions all use its one architecture. */
export const cpuArchitectureSchema = z.enum(['X86_64', 'ARM64']);

/** A cell on ECS/Fargate, as its cell stack records it. */
export const ecsCellRuntimeSchema = z.object({
  kind: z.literal('ecs'),
  clusterArn: z.string().min(1),
  stateMachineArn: z.string().min(1),
  executionRoleArn: z.string().min(1),
  taskRoleArn: z.string().min(1),
  logGroupName: z.string().min(1),
  subnets: z.array(z.string().min(1)).min(1),
  securityGroups: z.array(z.string().min(1)).min(1),
  assignPublicIp: z.boolean(),
  /** `runtimePlatform.cpuArchitecture` of the cell's task definitions; absent means X86_64. */
  cpuArchitecture: cpuArchitectureSchema.optional(),
});

/** Where a cell runs Transforms: ECS on Fargate (written by the cell stack) or this process (embedded). */
export const cellRuntimeSchema = z
  .discriminatedUnion('kind', [ecsCellRuntimeSchema, z.object({ kind: z.literal('local') })])
  .meta({ id: 'CellRuntime' });

export type CellRuntime = z.infer<typeof cellRuntimeSchema>;
export type EcsCellRuntime = Extract<CellRuntime, { kind: 'ecs' }>;

export const labelsSchema = z.record(z.string().min(1).max(128), z.string().max(256));

/** A cell as the API shows it. */
export const cellSchema = z
  .object({
    name: cellNameSchema,
    description: z.string().optional(),
    labels: z.record(z.string(), z.string()),
    /** `stack`: deployed by a cell stack (AWS); `embedded`: created in embedded mode. */
    origin: z.enum(['stack', 'embedded']),
    runtime: cellRuntimeSchema,
    storeCount: z.number().int().nonnegative(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Cell' });

export type Cell = z.infer<typeof cellSchema>;

export const cellPageSchema = pageSchema(cellSchema).meta({ id: 'CellPage' });
export const listCellsQuerySchema = paginationQuerySchema;

/** `PUT /v1/cells/{cell}`: creates a cell (embedded mode) or changes its description and labels. */
export const putCellBodySchema = z.strictObject({
  description: z.string().max(1024).optional(),
  labels: labelsSchema.optional(),
});

export const storePathSchema = cellPathSchema.extend({ store: dnsNameSchema });

/** A Store of a cell: the manifest as given (secret references are names), never a secret value. */
export const cellStoreSchema = z
  .object({
    cell: cellNameSchema,
    name: z.string(),
    connector: z.string(),
    manifest: storeManifestSchema,
    /** The `${VAR}` names its connection and secrets reference; their values are never shown. */
    secretNames: z.array(z.string()),
    /** AWS: the Secrets Manager secret holding the values (created empty; the operator fills it). */
    secretArn: z.string().optional(),
    revision: z.number().int().positive(),
    updatedAt: z.string(),
  })
  .meta({ id: 'CellStore' });

export type CellStore = z.infer<typeof cellStoreSchema>;

export const cellStorePageSchema = pageSchema(cellStoreSchema).meta({ id: 'CellStorePage' });
