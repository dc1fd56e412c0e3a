import { readFileSync } from 'node:fs';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import { z } from 'zod';
import { cellNameSchema, cpuArchitectureSchema, labelsSchema } from '../lib/contracts/api/cells.js';
import { type GroupPatterns, groupPatternsSchema } from '../lib/contracts/identity.js';
import {
  defaultEnvironments,
  type Environment,
  environmentsSchema,
} from '../lib/domain/promotions/environments.js';

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

const vpcId = z.string().regex(/^vpc-[0-9a-f]{8,17}$/, 'a VPC id (vpc-...)');
const subnetId = z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'a subnet id (subnet-...)');
const securityGroupId = z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'a security group id (sg-...)');

/**
 * A cell's network: an existing VPC (`vpcId` and the `subnetIds` tasks run in) or, without `vpcId`, a
 * new VPC of its own. One flat object with a check, rather than a union, so a half-filled existing
 * network fails naming the missing field instead of "no union member matched".
 */
const cellNetworkSchema = z
  .strictObject({
    vpcId: vpcId.optional(),
    subnetIds: z.array(subnetId).min(1).optional(),
    securityGroupIds: z.array(securityGroupId).optional(),
    maxAzs: integer(1, 6).optional(),
    natGateways: integer(0, 6).optional(),
  })
  .superRefine((network, context) => {
    const existing = network.vpcId !== undefined;
    const misplaced = existing
      ? (['maxAzs', 'natGateways'] as const)
      : (['subnetIds', 'securityGroupIds'] as const);
    for (const key of misplaced) {
      if (network[key] !== undefined) {
        context.addIssue({
          code: 'custom',
          path: [key],
          message: existing ? 'only for a new VPC (without vpcId)' : 'only with vpcId (an existing VPC)',
        });
      }
    }
    if (existing && network.subnetIds === undefined) {
      context.addIssue({ code: 'custom', path: ['subnetIds'], message: 'required with vpcId' });
    }
    if (!existing && (network.natGateways ?? 1) > (network.maxAzs ?? 2)) {
      context.addIssue({ code: 'custom', path: ['natGateways'], message: 'at most one per AZ (maxAzs)' });
    }
  });

const cellSchema = z
  .strictObject({
    name: cellNameSchema,
    description: z.string().max(1024).optional(),
    labels: labelsSchema.optional(),
    network: cellNetworkSchema.optional(),
    assignPublicIp: boolean.optional(),
    cpuArchitecture: cpuArchitectureSchema.optional(),
  })
  .superRefine((cell, context) => {
    // Without NAT gateways tasks run in public subnets: without a public IP they could reach nothing.
    if (
      cell.network?.vpcId === undefined &&
      cell.network?.natGateways === 0 &&
      cell.assignPublicIp === false
    ) {
      context.addIssue({
        code: 'custom',
        path: ['assignPublicIp'],
        message: 'must be true (or unset) when natGateways is 0: tasks run in public subnets',
      });
    }
  });

/**
 * The cells: a JSON array in cdk.json; on the command line either the same JSON
 * (`-c 'datakit:cells=[{"name":"blue"}]'`) or comma-separated names with every default (`-c datakit:cells=blue,green`).
 */
const cellsSchema = z
  .preprocess((value) => {
    if (typeof value !== 'string') return value;
    const text = value.trim();
    if (text.startsWith('[')) {
      try {
        return JSON.parse(text);
      } catch {
        return value; // not an array: the schema reports it
      }
    }
    return text
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== '')
      .map((name) => ({ name }));
  }, z.array(cellSchema))
  .superRefine((cells, context) => {
    const seen = new Set<string>();
    cells.forEach((cell, index) => {
      if (seen.has(cell.name)) {
        context.addIssue({
          code: 'custom',
          path: [index, 'name'],
          message: `cell ${cell.name} is listed twice`,
        });
      }
      seen.add(cell.name);
    });
  });

/** A JSON value from cdk.json, or the same JSON as the string `-c key=<json>` passes. */
const jsonValue = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => {
    if (typeof value !== 'string') return value;
    try {
      const parsed: unknown = JSON.parse(value);
      return parsed;
    } catch {
      return value; // not JSON: the schema reports it
    }
  }, schema);

/** The IAM principal ARN patterns of an approver group (`*` any run of characters, `?` one). */
const approverGroupsSchema = jsonValue(
  groupPatternsSchema.superRefine((groups, context) => {
    for (const [group, patterns] of Object.entries(groups)) {
      patterns.forEach((pattern, index) => {
        if (!/^arn:aws[a-z-]*:(iam|sts)::/.test(pattern)) {
          context.addIssue({
            code: 'custom',
            path: [group, index],
            message: 'an IAM principal ARN pattern (arn:aws:iam::… or arn:aws:sts::…)',
          });
        }
      });
    }
  }),
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
  /** The cells Transforms run in: one `<stage>-datakit-cell-<name>` stack each. */
  'datakit:cells': cellsSchema.default([]),
  /** The environments in promotion order and the groups each needs an approval of. */
  'datakit:environments': jsonValue(environmentsSchema).default([...defaultEnvironments]),
  /** Who belongs to each approver group: group → IAM principal ARN patterns. */
  'datakit:approverGroups': approverGroupsSchema.default({}),
  /** Days a promotion waits for its approvals (CodePipeline's manual approval timeout, at most 60). */
  'datakit:approvalTimeoutDays': integer(1, 60).default(7),
  /**
   * Days raw OpenLineage events are kept after they arrive (table items and S3 objects); 0 keeps them.
   * The lineage graph they built is not affected.
   */
  'datakit:lineageEventRetentionDays': integer(0, 36_500).default(400),
  /** Days run records are kept after the run ended; 0 keeps them. */
  'datakit:runRetentionDays': integer(0, 36_500).default(400),
  /**
   * Days `duplicate` and `rejected` registration records are kept; 0 keeps them. The `registered` record of
   * a committed version stays as long as the version (forever).
   */
  'datakit:registrationRetentionDays': integer(0, 36_500).default(400),
  /**
   * Days audit records are kept in the table (their TTL); 0 keeps them. Every record is also on the bus as
   * an `Audit Record` event, which the bus archive keeps for `datakit:eventArchiveRetentionDays`.
   */
  'datakit:auditRetentionDays': integer(0, 36_500).default(400),
  /**
   * Namespace roles (ADR 0018): `enforced` refuses a mutation without the role (403 ROLE_REQUIRED), `off`
   * allows every authenticated caller (still audited), `auto` enforces once any namespace has bindings or
   * the platform-admin group has members.
   */
  'datakit:accessControl': z.enum(['enforced', 'auto', 'off']).default('enforced'),
  /** The group (of `datakit:approverGroups`) whose members hold every role in every namespace and set bindings. */
  'datakit:platformAdminGroup': z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'a group name')
    .default('platform-admins'),
  /** `restricted`: reads of a namespace need `viewer` there; `open`: any authenticated caller reads. */
  'datakit:namespaceReadAccess': z.enum(['open', 'restricted']).default('open'),
});

export type SettingsKey = keyof z.input<typeof settingsSchema>;

/** The network of a cell: a VPC of its own, or subnets of an existing VPC. */
export type CellNetworkSettings =
  | {
      readonly kind: 'new';
      /** Availability zones of the VPC (one private and one public subnet each). */
      readonly maxAzs: number;
      /** 0 puts tasks in the public subnets with a public IP instead of behind NAT. */
      readonly natGateways: number;
    }
  | {
      readonly kind: 'existing';
      readonly vpcId: string;
      /** The subnets tasks run in; they need a route to ECR, CloudWatch Logs and Secrets Manager. */
      readonly subnetIds: readonly string[];
      /** Groups tasks get besides the cell's own (egress-only) group, e.g. one a database admits. */
      readonly securityGroupIds: readonly string[];
    };

/** One cell as the settings declare it, defaults applied. */
export interface CellSettings {
  readonly name: string;
  readonly description: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly network: CellNetworkSettings;
  readonly assignPublicIp: boolean;
  readonly cpuArchitecture: 'X86_64' | 'ARM64';
}

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
  /** One cell stack each, in this order. */
  readonly cells: readonly CellSettings[];
  /** In promotion order; each environment with approvals, or governed, gets a promotion pipeline. */
  readonly environments: readonly Environment[];
  /** Group → IAM principal ARN patterns. */
  readonly approverGroups: GroupPatterns;
  readonly approvalTimeoutDays: number;
  /** Days control-plane records are kept (0: forever). */
  readonly retention: RetentionSettings;
  /** Namespace roles and who administers every namespace. */
  readonly access: AccessSettings;
}

/** Namespace access control (ADR 0018). */
export interface AccessSettings {
  readonly mode: 'enforced' | 'auto' | 'off';
  readonly platformAdminGroup: string;
  readonly namespaceReadAccess: 'open' | 'restricted';
}

/** How long the control plane keeps records that only grow (days; 0 keeps them forever). */
export interface RetentionSettings {
  readonly lineageEventDays: number;
  readonly runDays: number;
  readonly registrationDays: number;
  readonly auditDays: number;
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
    cells: s['datakit:cells'].map(cellSettings),
    environments: s['datakit:environments'],
    approverGroups: s['datakit:approverGroups'],
    approvalTimeoutDays: s['datakit:approvalTimeoutDays'],
    retention: {
      lineageEventDays: s['datakit:lineageEventRetentionDays'],
      runDays: s['datakit:runRetentionDays'],
      registrationDays: s['datakit:registrationRetentionDays'],
      auditDays: s['datakit:auditRetentionDays'],
    },
    access: {
      mode: s['datakit:accessControl'],
      platformAdminGroup: s['datakit:platformAdminGroup'],
      namespaceReadAccess: s['datakit:namespaceReadAccess'],
    },
  };
}

/** A parsed cell with its defaults: a new VPC of 2 AZs and 1 NAT gateway; public IPs only without NAT. */
function cellSettings(cell: z.infer<typeof cellSchema>): CellSettings {
  const network = cell.network ?? {};
  const settings: CellNetworkSettings =
    network.vpcId === undefined
      ? { kind: 'new', maxAzs: network.maxAzs ?? 2, natGateways: network.natGateways ?? 1 }
      : {
          kind: 'existing',
          vpcId: network.vpcId,
          subnetIds: network.subnetIds ?? [],
          securityGroupIds: network.securityGroupIds ?? [],
        };
  return {
    name: cell.name,
    description: cell.description,
    labels: cell.labels ?? {},
    network: settings,
    assignPublicIp: cell.assignPublicIp ?? (settings.kind === 'new' && settings.natGateways === 0),
    cpuArchitecture: cell.cpuArchitecture ?? 'X86_64',
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
