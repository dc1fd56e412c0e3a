import * as z from 'zod';
import {
  apiVersionSchema,
  isPlainObject,
  openObjectSchema,
  stringMapSchema,
  versionedMetadataSchema,
} from './metadata.js';

export const TRANSFORM_RUNTIMES = ['cloudquery', 'generic-go', 'generic-python', 'dbt'] as const;
/** Runtimes that run a user-supplied container, so the schema's if/then makes `spec.image` required. */
export const IMAGE_RUNTIMES: ReadonlySet<string> = new Set(['generic-go', 'generic-python', 'dbt']);
export const TRANSFORM_MODES = ['batch', 'streaming'] as const;
export const TRIGGER_POLICIES = ['schedule', 'on-change', 'manual', 'composite'] as const;
export const TRIGGER_SUB_POLICIES = ['schedule', 'on-change', 'manual'] as const;
export const TIMEOUT_PATTERN = /^\d+[smh]$/u;

/** A reference from a Transform to DataSets, by name or by label selector (schema `anyOf` dataset | tags). */
const dataSetReferenceSchema = (direction: 'input' | 'output') =>
  z
    .strictObject({
      dataset: z.string().optional(),
      tags: stringMapSchema.optional(),
      version: z.string().optional(),
      cell: z.string().optional(),
      schema: z.string().optional(),
    })
    .refine((ref) => ref.dataset !== undefined || ref.tags !== undefined, {
      message: `an ${direction} needs a dataset name or tags`,
      params: { code: direction === 'input' ? 'E230' : 'E231' },
      when: isPlainObject,
    });

const resourceAmountsSchema = z.looseObject({ cpu: z.string().optional(), memory: z.string().optional() });

// An integer in the JSON Schema sense: zod's `.int()` also caps at 2^53, which the JSON Schema does not.
const replicasSchema = z
  .number()
  .refine(Number.isInteger, { message: 'spec.replicas must be a whole number' });

export const transformSpecSchema = z
  .strictObject({
    runtime: z.enum(TRANSFORM_RUNTIMES),
    mode: z.enum(TRANSFORM_MODES).optional(),
    inputs: z.array(dataSetReferenceSchema('input')).min(1),
    outputs: z.array(dataSetReferenceSchema('output')).min(1),
    image: z.string().optional(),
    command: z.array(z.string()).optional(),
    env: z
      .array(
        z.looseObject({
          name: z.string(),
          value: z.string().optional(),
          valueFrom: openObjectSchema.optional(),
        }),
      )
      .optional(),
    trigger: z
      .strictObject({
        policy: z.enum(TRIGGER_POLICIES),
        schedule: z.looseObject({ cron: z.string().optional(), timezone: z.string().optional() }).optional(),
        policies: z.array(z.enum(TRIGGER_SUB_POLICIES)).optional(),
      })
      .optional(),
    timeout: z.string().regex(TIMEOUT_PATTERN).optional(),
    resources: z
      .looseObject({ requests: resourceAmountsSchema.optional(), limits: resourceAmountsSchema.optional() })
      .optional(),
    replicas: replicasSchema.min(1).optional(),
    lineage: z.looseObject({ enabled: z.boolean().optional() }).optional(),
  })
  .refine((spec) => !IMAGE_RUNTIMES.has(spec.runtime) || spec.image !== undefined, {
    message: 'spec.image is required for the generic-go, generic-python and dbt runtimes',
    path: ['image'],
    params: { code: 'E232' },
    when: isPlainObject,
  });

/** A Transform: a unit of computation reading input DataSets and producing output DataSets. */
export const transformManifestSchema = z.strictObject({
  apiVersion: apiVersionSchema,
  kind: z.literal('Transform'),
  metadata: versionedMetadataSchema,
  spec: transformSpecSchema,
});

export type TransformManifest = z.infer<typeof transformManifestSchema>;
export type TransformSpec = z.infer<typeof transformSpecSchema>;
