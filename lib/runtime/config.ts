import * as z from 'zod';
import { groupPatternsSchema } from '../contracts/identity.js';

/** A JSON value in an environment variable, read with a schema (the error names the variable). */
export const jsonVariable = <T extends z.ZodType>(schema: T) =>
  z
    .string()
    .transform((text, context) => {
      try {
        const value: unknown = JSON.parse(text);
        return value;
      } catch {
        context.addIssue({ code: 'custom', message: 'not JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);

/** The default retention of control-plane records (days): a little over a year, for year-on-year audits. */
export const defaultRetentionDays = 400;

const retentionDays = z.coerce.number().int().min(0).max(36_500).default(defaultRetentionDays);

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
  /**
   * Hosts a registry may redirect blob and manifest reads to, or name as its token realm, besides the
   * allowlist (comma-separated patterns, https only). The layer bucket of every ECR registry on the
   * allowlist is always included: that is all ECR needs (lib/adapters/oci/connection-policy.ts).
   */
  REGISTRY_BLOB_HOSTS: z.string().default(''),
  /** Registry hosts read over plain http besides loopback ones (comma-separated patterns). */
  REGISTRY_INSECURE_HOSTS: z.string().default(''),
  /** `iam`: callers are API Gateway's IAM principals; `embedded`: loopback callers name themselves. */
  IDENTITY_SOURCE: z.enum(['iam', 'embedded']).default('iam'),
  /** The OpenLineage endpoint Transforms report to (`OPENLINEAGE_URL` in their environment). */
  OPENLINEAGE_ENDPOINT: z.url().default('http://127.0.0.1:8080'),
  /** The environments and their approvals as JSON (`datakit:environments`); dev → int → prod by default. */
  ENVIRONMENTS: z.string().min(2).optional(),
  /** EventBridge Scheduler: the stage's schedule group, the trigger function, the role and the DLQ (AWS). */
  SCHEDULE_GROUP: z.string().min(1).optional(),
  SCHEDULE_TARGET_ARN: z.string().min(1).optional(),
  SCHEDULE_ROLE_ARN: z.string().min(1).optional(),
  SCHEDULE_DLQ_ARN: z.string().min(1).optional(),
  /** Who belongs to which approver group, as JSON: group → principal patterns (`datakit:approverGroups`, `DATAKIT_GROUPS`). */
  GROUPS: jsonVariable(groupPatternsSchema).default({}),
  /** How long a promotion waits for its approvals (`datakit:approvalTimeoutDays`); CodePipeline allows 5 min–60 days. */
  APPROVAL_TIMEOUT_MINUTES: z.coerce.number().int().min(5).max(86_400).default(10_080),
  /** The promotion pipeline of each environment with approvals, as JSON: env → CodePipeline name (AWS). */
  PROMOTION_PIPELINES: jsonVariable(z.record(z.string(), z.string().min(1))).optional(),
  /** The bucket promotion requests are written to, the source of the promotion pipelines (AWS). */
  PROMOTION_REQUESTS_BUCKET: z.string().min(1).optional(),
  /** The stage (`datakit:stage`): Store secrets are `datakit/{stage}/{cell}/{store}` (AWS). */
  STAGE: z.string().min(1).default('dev'),
  /**
   * The function's timeout in ms: registry reads stop early enough to answer within it (see
   * lib/runtime/deadline.ts). The stacks set it from each function's timeout; the embedded mode, whose
   * requests have no timeout of their own, uses it as the budget of every request.
   */
  FUNCTION_TIMEOUT_MS: z.coerce.number().int().min(1000).max(900_000).default(10_000),
  /**
   * Retention of control-plane records, in days (0 keeps them): raw OpenLineage events (from receipt; the
   * graph they built stays), run records (from the run's end), and registration records that are not the
   * claim of a committed version (duplicates, rejections). Committed versions and deployments never expire.
   */
  LINEAGE_EVENT_RETENTION_DAYS: retentionDays,
  RUN_RETENTION_DAYS: retentionDays,
  REGISTRATION_RETENTION_DAYS: retentionDays,
  /** Days audit records are kept (`datakit:auditRetentionDays`; 0 keeps them): their TTL. */
  AUDIT_RETENTION_DAYS: retentionDays,
  /**
   * Namespace roles (ADR 0018): `enforced` (AWS's default), `off`, or `auto` — enforced once any namespace
   * has bindings or the platform-admin group has members (embedded mode's default).
   */
  ACCESS_CONTROL: z.enum(['enforced', 'auto', 'off']).default('enforced'),
  /** The group (of `GROUPS`) whose members hold every role everywhere and may set any bindings. */
  PLATFORM_ADMIN_GROUP: z.string().min(1).default('platform-admins'),
  /** `restricted`: reads of a namespace need `viewer`; `open`: any authenticated caller reads. */
  NAMESPACE_READ_ACCESS: z.enum(['open', 'restricted']).default('open'),
  /** How long a function instance trusts bindings it read (s): a revoked binding works at most this long. */
  BINDINGS_CACHE_SECONDS: z.coerce.number().int().min(0).max(300).default(10),
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
