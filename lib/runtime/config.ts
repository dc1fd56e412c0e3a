import { z } from 'zod';

const configSchema = z.object({
  TABLE_NAME: z.string().min(1),
  /** A DynamoDB-compatible endpoint (embedded mode, LocalStack); AWS's when absent. */
  DYNAMODB_ENDPOINT: z.url().optional(),
  AWS_REGION: z.string().min(1).optional(),
  EVENT_BUS_NAME: z.string().min(1).default('datakit'),
  SERVICE_VERSION: z.string().min(1).default('0.1.0'),
  LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT']).default('INFO'),
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
