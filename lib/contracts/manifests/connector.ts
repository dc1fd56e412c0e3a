import * as z from 'zod';
import {
  apiVersionSchema,
  manifestNameSchema,
  nonEmptyUniqueArray,
  STRICT_SEMVER_PATTERN,
  stringMapSchema,
} from './metadata.js';

export const CONNECTOR_CAPABILITIES = ['source', 'destination'] as const;
export const CONNECTOR_TOOL_TYPES = ['exec', 'config'] as const;

const connectorToolSchema = z.strictObject({
  name: z.string(),
  description: z.string().optional(),
  type: z.enum(CONNECTOR_TOOL_TYPES),
  requires: z.array(z.string()).optional(),
  command: z.string().optional(),
  format: z.enum(['text', 'file', 'env']).optional(),
  path: z.string().optional(),
  mode: z.enum(['append', 'overwrite']).optional(),
  template: z.string().optional(),
  postMessage: z.string().optional(),
  default: z.boolean().optional(),
});

const connectionFieldSchema = z.strictObject({
  description: z.string().optional(),
  field: z.string(),
  default: z.string().optional(),
  secret: z.boolean().optional(),
  optional: z.boolean().optional(),
});

/** A Connector: a storage technology (Postgres, S3, Kafka, ...) that Stores are instances of. */
export const connectorManifestSchema = z.strictObject({
  apiVersion: apiVersionSchema,
  kind: z.literal('Connector'),
  metadata: z.strictObject({
    name: manifestNameSchema,
    labels: stringMapSchema.optional(),
    annotations: stringMapSchema.optional(),
  }),
  spec: z.strictObject({
    provider: z.string().optional(),
    version: z.string().regex(STRICT_SEMVER_PATTERN).optional(),
    type: z.string(),
    protocol: z.string().optional(),
    capabilities: nonEmptyUniqueArray(z.enum(CONNECTOR_CAPABILITIES), 'capability'),
    plugin: z.strictObject({ source: z.string().optional(), destination: z.string().optional() }).optional(),
    tools: z.array(connectorToolSchema).optional(),
    connectionSchema: z.record(z.string(), connectionFieldSchema).optional(),
  }),
});

export type ConnectorManifest = z.infer<typeof connectorManifestSchema>;
