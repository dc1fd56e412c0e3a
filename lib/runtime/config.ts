import * as z from 'zod';

const configSchema = z.object({
  TABLE_NAME: z.string().min(1),
  /** A DynamoDB-compatible endpoint (embedded mode, LocalStack); AWS's when absent. */
  DYNAMODB_ENDPOINT: z.url().optional(),
  AWS_REGION: z.string().min(1).optional(),
  EVENT_BUS_NAME: z.string().min(1).default('datakit'),
  SERVICE_VERSION: z.string().min(1).default('0.1.0'),
  LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT']).default('INFO'),
  /** S3 bucket of raw lineage events too large for a table item (AWS). */
  RAW_EVENTS_BUCKET: z.string().min(1).optional(),
  /** Directory of raw lineage events too large for a table item (embedded mode; without a bucket). */
  RAW_EVENTS_DIR: z.string().min(1).optional(),
  /**
   * Registries packages may be registered from: comma-separated `host`, `host:port` or `*.suffix`
   * patterns. Loopback registries by default (the embedded mode); the stacks set the account's ECR host.
   */
  REGISTRY_ALLOWLIST: z.string().default('localhost,127.0.0.1,[::1]'),
  /** Registry hosts read over plain http besides loopback ones (comma-separated). */
  REGISTRY_INSECURE_HOSTS: z.string().default(''),
});

export type Config = z.infer<typeof configSchema>;

/** Thrown at cold start when the environment is incomplete; names every offending variable. */
export class ConfigError extends Error {}

/** Parses the process environment once, at cold start. */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Config {
  const result = configSchema.safeParse(env);
  if (result.success) return result.data;
  const variables = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new ConfigError(`invalid configuration: ${variables.join('; ')}`);
}
