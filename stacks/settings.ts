import { readFileSync } from 'node:fs';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import { z } from 'zod';

/** Every value `aws-logs` accepts as a retention period, in days. */
const retentionDays: readonly number[] = Object.values(RetentionDays).filter(
  (value): value is number => typeof value === 'number' && value !== RetentionDays.INFINITE,
);

/** Context values come from cdk.json as JSON and from `-c key=value` as strings; both are accepted. */
const integer = (min: number, max: number) =>
  z.preprocess(
    (value) => (typeof value === 'string' && value.trim() !== '' ? Number(value) : value),
    z.number().int().min(min).max(max),
  );
/** A list from cdk.json (a JSON array) or from `-c key=a,b` (a comma-separated string). */
const stringList = (item: z.ZodString) =>
  z.preprocess(
    (value) =>
      typeof value === 'string'
        ? value
            .split(',')
            .map((part) => part.trim())
            .filter((part) => part !== '')
        : value,
    z.array(item),
  );
const ecrRepositoryName = z
  .string()
  .regex(/^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/, 'an ECR repository name');
const boolean = z.preprocess(
  (value) => (value === 'true' ? true : value === 'false' ? false : value),
  z.boolean(),
);

/**
 * The CDK context keys this app reads, with their defaults. `README.md` (Deploying to AWS) documents
 * each one; keep the two in step.
 */
const settingsSchema = z.object({
  /** Prefix of every stack and physical name, so several stages can share an account and region. */
  'datakit:stage': z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,15}$/, 'a lower-case name of at most 16 characters: a-z, 0-9, -')
    .default('dev'),
  /** Retention of every log group the app creates (functions, API access logs). */
  'datakit:logRetentionDays': z
    .preprocess(
      (value) => (typeof value === 'string' && value.trim() !== '' ? Number(value) : value),
      z.number().refine((days) => retentionDays.includes(days), {
        message: `one of ${retentionDays.join(', ')}`,
      }),
    )
    .default(30),
  /** Log level of every function (`LOG_LEVEL`). */
  'datakit:logLevel': z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT']).default('INFO'),
  /** Steady-state requests per second the API stage accepts before answering 429. */
  'datakit:apiThrottleRateLimit': integer(1, 10_000).default(50),
  /** Requests the API stage accepts in a burst above the rate limit. */
  'datakit:apiThrottleBurstLimit': integer(1, 5_000).default(100),
  /** Responses at least this large are gzip-compressed for clients that send `Accept-Encoding: gzip`. */
  'datakit:apiMinCompressionBytes': integer(0, 10_485_760).default(1024),
  /**
   * Creates the account-wide role API Gateway uses to write logs to CloudWatch. Turn off when the
   * account already has one configured (API Gateway → Settings) and is managed elsewhere.
   */
  'datakit:apiGatewayCloudWatchRole': boolean.default(true),
  /** Days the `datakit` bus archive keeps events for replay; 0 keeps them indefinitely. */
  'datakit:eventArchiveRetentionDays': integer(0, 36_500).default(90),
  /** `aws-managed` (the `aws/dynamodb` KMS key) or `customer-managed` (a rotated key this app owns). */
  'datakit:tableEncryption': z.enum(['aws-managed', 'customer-managed']).default('aws-managed'),
  /** CloudWatch Contributor Insights on the table and its indexes (billed per rule). */
  'datakit:tableContributorInsights': boolean.default(false),
  /** Memory of every API function in MB; CPU scales with it. */
  'datakit:functionMemoryMb': integer(128, 10_240).default(512),
  /**
   * Timeout of every API function in seconds; API Gateway gives up after 29. Registry reads stop 1.5 s
   * before it (lib/runtime/deadline.ts), so less than 3 s would leave them almost nothing.
   */
  'datakit:functionTimeoutSeconds': integer(3, 29).default(10),
  /** Reserved concurrency of every API function; unset leaves them on the account's shared pool. */
  'datakit:functionReservedConcurrency': integer(1, 1000).optional(),
  /** `SERVICE_VERSION` reported by `/healthz` and the OpenAPI document. @default package.json version */
  'datakit:serviceVersion': z.string().min(1).optional(),
  /** Every package repository name starts with it; the registration rule matches pushes by this prefix. */
  'datakit:packageRepositoryPrefix': z
    .string()
    .regex(/^[a-z0-9][a-z0-9._/-]*$/, 'lowercase letters, digits, . _ - and /')
    .default('dk/'),
  /** ECR repositories the stateful stack creates for packages (tag immutability, scan on push, lifecycle). */
  'datakit:packageRepositories': stringList(ecrRepositoryName).default([]),
  /** Existing ECR repositories of this account and region that hold packages (imported, not managed). */
  'datakit:existingPackageRepositories': stringList(ecrRepositoryName).default([]),
  /** Days an untagged image stays in a created package repository before the lifecycle rule expires it. */
  'datakit:untaggedImageExpiryDays': integer(1, 3650).default(14),
  /** Registries `POST /v1/registrations` may read from besides this account's ECR (host[:port] or *.suffix). */
  'datakit:registryAllowlist': stringList(
    z.string().regex(/^[a-z0-9*.[\]:-]+$/, 'a host[:port] pattern'),
  ).default([]),
  /**
   * Hosts registries may redirect reads to or name as token realms, besides the allowlist and the layer
   * bucket of each allowlisted ECR registry (host[:port] or *.suffix; https only).
   */
  'datakit:registryBlobHosts': stringList(
    z.string().regex(/^[a-z0-9*.[\]:-]+$/, 'a host[:port] pattern'),
  ).default([]),
});

export type SettingsKey = keyof z.input<typeof settingsSchema>;

/** The parsed settings of one deployment. */
export interface Settings {
  readonly stage: string;
  readonly logRetention: RetentionDays;
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
  readonly apiThrottleRateLimit: number;
  readonly apiThrottleBurstLimit: number;
  readonly apiMinCompressionBytes: number;
  readonly apiGatewayCloudWatchRole: boolean;
  /** 0 keeps archived events indefinitely. */
  readonly eventArchiveRetentionDays: number;
  readonly tableEncryption: 'aws-managed' | 'customer-managed';
  readonly tableContributorInsights: boolean;
  readonly functionMemoryMb: number;
  readonly functionTimeoutSeconds: number;
  readonly functionReservedConcurrency: number | undefined;
  readonly serviceVersion: string;
  readonly packageRepositoryPrefix: string;
  readonly packageRepositories: readonly string[];
  readonly existingPackageRepositories: readonly string[];
  readonly untaggedImageExpiryDays: number;
  readonly registryAllowlist: readonly string[];
  readonly registryBlobHosts: readonly string[];
}

/** Thrown when the CDK context holds a bad value; the message names every offending key. */
export class SettingsError extends Error {}

export const settingsKeys = Object.keys(settingsSchema.shape) as SettingsKey[];

/**
 * Parses the `datakit:*` context once. Unknown `datakit:` keys are rejected too, so a typo in cdk.json
 * or `-c` fails the synth instead of silently deploying the default.
 */
export function parseSettings(context: Readonly<Record<string, unknown>>): Settings {
  const known = new Set<string>(settingsKeys);
  const unknown = Object.keys(context).filter((key) => key.startsWith('datakit:') && !known.has(key));
  const input = Object.fromEntries(settingsKeys.map((key) => [key, context[key]]));
  const result = settingsSchema.safeParse(input);
  const problems = [
    ...unknown.map((key) => `${key}: unknown setting (known: ${settingsKeys.join(', ')})`),
    ...(result.success
      ? []
      : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)),
  ];
  if (result.success) {
    const prefix = result.data['datakit:packageRepositoryPrefix'];
    for (const key of ['datakit:packageRepositories', 'datakit:existingPackageRepositories'] as const) {
      for (const name of result.data[key].filter((repository) => !repository.startsWith(prefix))) {
        problems.push(`${key}: ${name} does not start with datakit:packageRepositoryPrefix ${prefix}`);
      }
    }
  }
  if (!result.success || problems.length > 0) {
    throw new SettingsError(`invalid CDK context: ${problems.join('; ')}`);
  }
  const s = result.data;
  return {
    stage: s['datakit:stage'],
    logRetention: s['datakit:logRetentionDays'] as RetentionDays,
    logLevel: s['datakit:logLevel'],
    apiThrottleRateLimit: s['datakit:apiThrottleRateLimit'],
    apiThrottleBurstLimit: s['datakit:apiThrottleBurstLimit'],
    apiMinCompressionBytes: s['datakit:apiMinCompressionBytes'],
    apiGatewayCloudWatchRole: s['datakit:apiGatewayCloudWatchRole'],
    eventArchiveRetentionDays: s['datakit:eventArchiveRetentionDays'],
    tableEncryption: s['datakit:tableEncryption'],
    tableContributorInsights: s['datakit:tableContributorInsights'],
    functionMemoryMb: s['datakit:functionMemoryMb'],
    functionTimeoutSeconds: s['datakit:functionTimeoutSeconds'],
    functionReservedConcurrency: s['datakit:functionReservedConcurrency'],
    serviceVersion: s['datakit:serviceVersion'] ?? packageVersion(),
    packageRepositoryPrefix: s['datakit:packageRepositoryPrefix'],
    packageRepositories: s['datakit:packageRepositories'],
    existingPackageRepositories: s['datakit:existingPackageRepositories'],
    untaggedImageExpiryDays: s['datakit:untaggedImageExpiryDays'],
    registryAllowlist: s['datakit:registryAllowlist'],
    registryBlobHosts: s['datakit:registryBlobHosts'],
  };
}

/** The settings of an app or stage, from its construct node's context. */
export function settingsOf(node: Node): Settings {
  return parseSettings(node.getAllContext());
}

const packageJsonSchema = z.object({ version: z.string().min(1) });

function packageVersion(): string {
  const text = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
  return packageJsonSchema.parse(JSON.parse(text)).version;
}
