import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ECRClient } from '@aws-sdk/client-ecr';
import type * as z from 'zod';
import { ConnectionPolicy } from '../adapters/oci/connection-policy.js';
import { DistributionClient } from '../adapters/oci/distribution-client.js';
import { EcrCredentialProvider, ecrLayerBucketHosts } from '../adapters/oci/ecr-credentials.js';
import { buildPackageArtifact, pushArtifact, readPackageDirectory } from '../adapters/oci/package-builder.js';
import {
  type AuditRecordView,
  auditPageSchema,
  type NamespaceBindings,
  namespaceBindingsSchema,
  namespaceRoleSchema,
} from '../contracts/api/access.js';
import { problemDetailsSchema } from '../contracts/api/common.js';
import { packageStatusSchema } from '../contracts/api/deployments.js';
import { deprecationResultSchema } from '../contracts/api/deprecations.js';
import { type GovernanceReport, governanceReportSchema } from '../contracts/api/governance.js';
import { promotionPageSchema, promotionSchema } from '../contracts/api/promotions.js';
import { runLogsSchema, runPageSchema, runSchema, terminalRunStatuses } from '../contracts/api/runs.js';
import { describeVia } from '../domain/governance/report-render.js';
import { formatReference, InvalidReferenceError, parseReference } from '../domain/registry/reference.js';
import type { ApiAnswer, ControlPlaneClient } from './client.js';
import { duration, shortTime, table } from './format.js';

/** What a command gets: its arguments, the API client, and where to write. */
export interface CommandContext {
  readonly args: readonly string[];
  readonly client: ControlPlaneClient;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** For `--wait` polling; injectable so tests need not wait. */
  readonly sleep: (ms: number) => Promise<void>;
}

export interface Command {
  readonly usage: string;
  readonly run: (context: CommandContext) => Promise<number>;
}

/** A usage mistake: the message and exit code 2. */
export class UsageError extends Error {}

/** The answer's JSON read through a schema, or the problem printed and exit code 1. */
export class ApiError extends Error {
  constructor(readonly answer: ApiAnswer) {
    super(`the API answered ${answer.status}`);
  }
}

function expect<T extends z.ZodType>(answer: ApiAnswer, statuses: readonly number[], schema: T): z.output<T> {
  if (!statuses.includes(answer.status)) throw new ApiError(answer);
  return schema.parse(answer.json);
}

/** Prints a problem+json answer as `error CODE: detail` with its field errors. */
export function describeApiError(answer: ApiAnswer): string {
  const problem = problemDetailsSchema.safeParse(answer.json);
  if (!problem.success) return `error: the API answered ${answer.status}: ${answer.text.slice(0, 500)}`;
  const lines = [`error ${problem.data.code}: ${problem.data.detail}`];
  for (const item of problem.data.errors ?? []) {
    lines.push(
      `  - ${item.path === undefined ? '' : `${item.path}: `}${item.message}${item.code === problem.data.code ? '' : ` (${item.code})`}`,
    );
  }
  return lines.join('\n');
}

function packageArg(value: string | undefined): { namespace: string; name: string } {
  const match = value === undefined ? null : /^([^/]+)\/([^/]+)$/u.exec(value);
  if (match?.[1] === undefined || match[2] === undefined) throw new UsageError('expected <namespace>/<name>');
  return { namespace: match[1], name: match[2] };
}

const runRows = (runs: readonly z.output<typeof runSchema>[]) =>
  table(
    ['RUN ID', 'PACKAGE', 'VERSION', 'ENV', 'CELL', 'TRIGGER', 'STATUS', 'STARTED', 'DURATION'],
    runs.map((run) => [
      run.runId,
      `${run.namespace}/${run.name}`,
      run.version,
      run.env,
      run.cell,
      run.trigger.type,
      run.status,
      shortTime(run.startedAt ?? run.createdAt),
      duration(run.durationMs),
    ]),
  );

const query = (values: Record<string, string | undefined>) => {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) if (value !== undefined) params.set(key, value);
  return params.size === 0 ? '' : `?${params.toString()}`;
};

/** The report as terminal tables: packages, PII flows, violations, deprecations. */
function reportText(report: GovernanceReport): string {
  const ref = (d: { namespace: string; name: string }) => `${d.namespace}/${d.name}`;
  const { summary } = report;
  const sections = [
    `${summary.packages} packages, ${summary.piiDataSets} DataSets with PII fields, ${summary.flows} PII flows, ${summary.violations} violations, ${summary.deprecations} deprecations${
      report.lineage.complete ? '' : ' (lineage incomplete: node budget reached)'
    }`,
    table(
      ['PACKAGE', 'KIND', 'DATASET', 'ROLE', 'CLASSIFICATION', 'PII FIELDS', 'FED BY PII'],
      report.packages.flatMap((pkg) =>
        pkg.dataSets.map((dataSet) => [
          `${ref(pkg)}@${pkg.version}${pkg.deprecation === undefined ? '' : ' (deprecated)'}`,
          pkg.kind,
          ref(dataSet),
          dataSet.role,
          dataSet.classification ?? '-',
          dataSet.piiFields.join(',') || '-',
          dataSet.fedByPii ? 'yes' : 'no',
        ]),
      ),
    ),
  ];
  if (report.flows.length > 0) {
    sections.push(
      table(
        ['FROM', 'TO', 'CLASSIFICATION', 'VIA', 'PII COLUMNS'],
        report.flows.map((flow) => [
          ref(flow.from),
          ref(flow.to),
          flow.toClassification ?? '-',
          flow.via.map(describeVia).join('; '),
          flow.columns.map((column) => `${column.from}>${column.to}`).join(',') || '-',
        ]),
      ),
    );
  }
  if (report.violations.length > 0) {
    sections.push(
      table(
        ['VIOLATION', 'DATASET', 'COLUMN', 'PATH'],
        report.violations.map((violation) => [
          violation.code,
          ref(violation.dataset),
          violation.column ?? '-',
          violation.path.join(' > '),
        ]),
      ),
    );
  }
  if (report.deprecations.length > 0) {
    sections.push(
      table(
        ['DEPRECATED', 'NAME', 'SUNSET', 'CONSUMERS', 'REASON'],
        report.deprecations.map((deprecation) => [
          deprecation.subject,
          ref(deprecation),
          `${deprecation.sunset}${deprecation.sunsetPassed ? ' (passed)' : ''}`,
          deprecation.consumers.map(ref).join(',') || '-',
          deprecation.reason,
        ]),
      ),
    );
  }
  return sections.join('\n\n');
}

/** `governance report …` and `governance deprecate …`. */
async function governance({ args, client, out }: CommandContext): Promise<number> {
  const [action, ...rest] = args;
  if (action === 'report') {
    const { values } = parseArgs({
      args: rest,
      options: {
        filter: { type: 'string', multiple: true },
        format: { type: 'string' },
        namespace: { type: 'string' },
        classification: { type: 'string' },
        cell: { type: 'string' },
      },
    });
    const format = values.format ?? 'text';
    if (!['text', 'json', 'csv', 'markdown'].includes(format))
      throw new UsageError('--format is text, json, csv or markdown');
    const answer = await client.request(
      'GET',
      `/v1/governance/report${query({
        filter: values.filter?.join(','),
        namespace: values.namespace,
        classification: values.classification,
        cell: values.cell,
        ...(format === 'text' ? {} : { format }),
      })}`,
    );
    if (answer.status !== 200) throw new ApiError(answer);
    out(format === 'text' ? reportText(governanceReportSchema.parse(answer.json)) : answer.text.trimEnd());
    return 0;
  }
  if (action === 'deprecate') {
    const { positionals, values } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { reason: { type: 'string' }, sunset: { type: 'string' } },
    });
    const [kind, target] = positionals;
    if (
      (kind !== 'dataset' && kind !== 'package') ||
      values.reason === undefined ||
      values.sunset === undefined
    )
      throw new UsageError(
        'governance deprecate needs dataset|package, <namespace>/<name>, --reason and --sunset',
      );
    const subject = packageArg(target);
    const answer = await client.request(
      'POST',
      `/v1/${kind === 'dataset' ? 'datasets' : 'packages'}/${subject.namespace}/${subject.name}/deprecation`,
      { reason: values.reason, sunset: values.sunset },
    );
    const result = expect(answer, [200, 201], deprecationResultSchema);
    out(
      `${result.subject} ${result.namespace}/${result.name} deprecated (sunset ${result.deprecation.sunset}); ${result.impact.consumerCount} consumers${
        result.impact.cells.length === 0 ? '' : ` in ${result.impact.cells.join(', ')}`
      }${result.impact.owners.length === 0 ? '' : `, owners ${result.impact.owners.join(', ')}`}`,
    );
    return 0;
  }
  throw new UsageError('governance report | governance deprecate');
}

export const commands: Readonly<Record<string, Command>> = {
  push: {
    usage:
      'push <package-dir> <registry>/<repository>:<tag>   build a package directory into a DataKit artifact and push it',
    run: async ({ args, out }) => {
      const [dir, target] = args;
      if (dir === undefined || target === undefined)
        throw new UsageError('push needs a directory and a reference');
      let reference: ReturnType<typeof parseReference>;
      try {
        reference = parseReference(target);
      } catch (error) {
        if (error instanceof InvalidReferenceError) throw new UsageError(error.message);
        throw error;
      }
      if (reference.tag === undefined)
        throw new UsageError('push needs a tag (the package version), not a digest');
      const files = await readPackageDirectory(resolve(dir));
      if (files['dk.yaml'] === undefined) throw new UsageError(`${dir} has no dk.yaml`);
      // The registry the user named, listed exactly: a private or loopback one is their decision.
      const client = new DistributionClient({
        credentials: new EcrCredentialProvider({ client: (region) => new ECRClient({ region }) }),
        policy: new ConnectionPolicy({
          registries: [reference.registry],
          blobHosts: ecrLayerBucketHosts([reference.registry]),
        }),
      });
      const pushed = await pushArtifact(client, reference, reference.tag, await buildPackageArtifact(files));
      out(formatReference(pushed));
      return 0;
    },
  },
  deploy: {
    usage: 'deploy <namespace>/<name> <version> --cell <cell>   deploy a registered version to dev in a cell',
    run: async ({ args, client, out }) => {
      const { positionals, values } = parseArgs({
        args: [...args],
        allowPositionals: true,
        options: { cell: { type: 'string' } },
      });
      const pkg = packageArg(positionals[0]);
      const version = positionals[1];
      if (version === undefined || values.cell === undefined)
        throw new UsageError('deploy needs a version and --cell');
      const promotion = expect(
        await client.request('POST', '/v1/promotions', { ...pkg, version, env: 'dev', cell: values.cell }),
        [201],
        promotionSchema,
      );
      out(
        `${promotion.namespace}/${promotion.name} ${promotion.version} → dev/${promotion.cell}: ${promotion.status} (promotion ${promotion.id})`,
      );
      return 0;
    },
  },
  run: {
    usage: 'run <namespace>/<name> --cell <cell> [--env dev] [--wait]   start a run of the deployed version',
    run: async ({ args, client, out, sleep }) => {
      const { positionals, values } = parseArgs({
        args: [...args],
        allowPositionals: true,
        options: { cell: { type: 'string' }, env: { type: 'string' }, wait: { type: 'boolean' } },
      });
      const pkg = packageArg(positionals[0]);
      if (values.cell === undefined) throw new UsageError('run needs --cell');
      let run = expect(
        await client.request('POST', '/v1/runs', {
          ...pkg,
          cell: values.cell,
          ...(values.env === undefined ? {} : { env: values.env }),
        }),
        [202],
        runSchema,
      );
      out(`run ${run.runId} ${run.status}`);
      if (values.wait !== true) return 0;
      while (!terminalRunStatuses.has(run.status)) {
        await sleep(500);
        run = expect(await client.request('GET', `/v1/runs/${run.runId}`), [200], runSchema);
      }
      out(
        `run ${run.runId} ${run.status}${run.exitCode === undefined ? '' : ` (exit ${run.exitCode})`} in ${duration(run.durationMs)}`,
      );
      if (run.error !== undefined) out(`${run.error.code}: ${run.error.message}`);
      return run.status === 'SUCCEEDED' ? 0 : 1;
    },
  },
  runs: {
    usage:
      'runs [<namespace>/<name>] [--cell c] [--status s] [--trigger manual|on-change|schedule]   list runs, newest first',
    run: async ({ args, client, out }) => {
      const { positionals, values } = parseArgs({
        args: [...args],
        allowPositionals: true,
        options: {
          cell: { type: 'string' },
          status: { type: 'string' },
          trigger: { type: 'string' },
          limit: { type: 'string' },
        },
      });
      const pkg = positionals[0] === undefined ? undefined : packageArg(positionals[0]);
      const page = expect(
        await client.request(
          'GET',
          `/v1/runs${query({ namespace: pkg?.namespace, name: pkg?.name, cell: values.cell, status: values.status, trigger: values.trigger, limit: values.limit })}`,
        ),
        [200],
        runPageSchema,
      );
      out(runRows(page.items));
      return 0;
    },
  },
  logs: {
    usage: "logs <runId> [--limit n]   the tail of a run's output",
    run: async ({ args, client, out }) => {
      const { positionals, values } = parseArgs({
        args: [...args],
        allowPositionals: true,
        options: { limit: { type: 'string' } },
      });
      if (positionals[0] === undefined) throw new UsageError('logs needs a run id');
      const logs = expect(
        await client.request('GET', `/v1/runs/${positionals[0]}/logs${query({ limit: values.limit })}`),
        [200],
        runLogsSchema,
      );
      for (const line of logs.lines) out(line.message);
      return 0;
    },
  },
  pipeline: {
    usage:
      'pipeline [--cell <cell>] [--env <env>] [--format mermaid|dot|json]   the pipeline graph (deployed in a cell, with triggers)',
    run: async ({ args, client, out }) => {
      const { values } = parseArgs({
        args: [...args],
        options: { cell: { type: 'string' }, env: { type: 'string' }, format: { type: 'string' } },
      });
      const answer = await client.request(
        'GET',
        `/v1/pipeline${query({ cell: values.cell, env: values.env, format: values.format ?? 'mermaid' })}`,
      );
      if (answer.status !== 200) throw new ApiError(answer);
      out(answer.text.trimEnd());
      return 0;
    },
  },
  promote: {
    usage:
      'promote <namespace>/<name> <version> --to <env> --cell <cell> [--override-reason r] [--governance-override-reason r]   promote a version (int and prod wait for approvals; a PII flow into prod needs a governance override and security)',
    run: async ({ args, client, out }) => {
      const { positionals, values } = parseArgs({
        args: [...args],
        allowPositionals: true,
        options: {
          to: { type: 'string' },
          cell: { type: 'string' },
          'override-reason': { type: 'string' },
          'governance-override-reason': { type: 'string' },
        },
      });
      const pkg = packageArg(positionals[0]);
      const version = positionals[1];
      if (version === undefined || values.to === undefined || values.cell === undefined) {
        throw new UsageError('promote needs a version, --to and --cell');
      }
      const reason = values['override-reason'];
      const promotion = expect(
        await client.request('POST', '/v1/promotions', {
          ...pkg,
          version,
          env: values.to,
          cell: values.cell,
          ...(reason === undefined ? {} : { override: { reason } }),
          ...governanceOverrideOf(values['governance-override-reason']),
        }),
        [201],
        promotionSchema,
      );
      out(describePromotion(promotion));
      return 0;
    },
  },
  approve: {
    usage: 'approve <promotionId> [--group g] [--comment c]   approve a promotion for one of its groups',
    run: async (context) => decide(context, 'approve'),
  },
  reject: {
    usage: 'reject <promotionId> [--group g] [--comment c]   reject a promotion (it ends REJECTED)',
    run: async (context) => decide(context, 'reject'),
  },
  rollback: {
    usage:
      'rollback <namespace>/<name> --env <env> --cell <cell> [--to <version>] [--governance-override-reason r]   go back to the previous version, through the same approvals and PII gate',
    run: async ({ args, client, out }) => {
      const { positionals, values } = parseArgs({
        args: [...args],
        allowPositionals: true,
        options: {
          env: { type: 'string' },
          cell: { type: 'string' },
          to: { type: 'string' },
          'governance-override-reason': { type: 'string' },
        },
      });
      const pkg = packageArg(positionals[0]);
      if (values.env === undefined || values.cell === undefined) {
        throw new UsageError('rollback needs --env and --cell');
      }
      const promotion = expect(
        await client.request('POST', '/v1/rollbacks', {
          ...pkg,
          env: values.env,
          cell: values.cell,
          ...(values.to === undefined ? {} : { toVersion: values.to }),
          ...governanceOverrideOf(values['governance-override-reason']),
        }),
        [201],
        promotionSchema,
      );
      out(describePromotion(promotion));
      return 0;
    },
  },
  promotions: {
    usage:
      'promotions [<namespace>/<name>] [--env e] [--status s]   promotions, newest first (what waits for your approval)',
    run: async ({ args, client, out }) => {
      const { positionals, values } = parseArgs({
        args: [...args],
        allowPositionals: true,
        options: { env: { type: 'string' }, status: { type: 'string' }, limit: { type: 'string' } },
      });
      const pkg = positionals[0] === undefined ? undefined : packageArg(positionals[0]);
      const page = expect(
        await client.request(
          'GET',
          `/v1/promotions${query({ namespace: pkg?.namespace, name: pkg?.name, env: values.env, status: values.status, limit: values.limit })}`,
        ),
        [200],
        promotionPageSchema,
      );
      out(
        table(
          ['ID', 'PACKAGE', 'VERSION', 'ENV', 'CELL', 'STATUS', 'WAITING FOR', 'REQUESTED BY', 'CREATED'],
          page.items.map((promotion) => [
            promotion.id,
            `${promotion.namespace}/${promotion.name}`,
            `${promotion.version}${promotion.rollback === undefined ? '' : ' (rollback)'}${
              promotion.governance?.override === undefined ? '' : ' (PII override)'
            }`,
            promotion.env,
            promotion.cell,
            promotion.status,
            promotion.status === 'AWAITING_APPROVAL' ? pendingOf(promotion).join(', ') : '-',
            promotion.requestedByPerson,
            shortTime(promotion.createdAt),
          ]),
        ),
      );
      return 0;
    },
  },
  governance: {
    usage:
      'governance report [--filter pii=true] [--namespace n] [--classification c] [--cell c] [--format text|json|csv|markdown]   PII, flows, violations, deprecations\n' +
      '  governance deprecate dataset|package <namespace>/<name> --reason <why> --sunset <YYYY-MM-DD>   deprecate and tell every consumer',
    run: governance,
  },
  bindings: {
    usage:
      'bindings <namespace> [--set <file.json>] [--grant <role>=<principal>|group:<group>]… [--revoke <role>=<principal>|group:<group>]…   show or change who holds which role',
    run: bindings,
  },
  audit: {
    usage:
      'audit [--namespace n] [--actor a] [--action x|x.*] [--target t] [--from t] [--to t] [--limit n] [--cursor c] [--json]   the audit trail, newest first',
    run: audit,
  },
  status: {
    usage: 'status <namespace>/<name>   what is deployed where, with the last run (dk status)',
    run: async ({ args, client, out }) => {
      const pkg = packageArg(args[0]);
      const status = expect(
        await client.request('GET', `/v1/packages/${pkg.namespace}/${pkg.name}/status`),
        [200],
        packageStatusSchema,
      );
      out(
        table(
          ['Environment', 'Cell', 'Version', 'Status', 'Last run'],
          status.deployments.map((row) => [
            row.env,
            row.cell,
            row.version ?? '-',
            row.promotion === undefined
              ? row.status
              : `${row.status} ${row.promotion.version} (${
                  row.promotion.pendingGroups.length > 0
                    ? `awaiting ${row.promotion.pendingGroups.join(', ')}`
                    : (row.promotion.error?.code ?? row.promotion.status)
                }, promotion ${row.promotion.id})`,
            row.lastRun === undefined
              ? '-'
              : `${row.lastRun.status} ${shortTime(row.lastRun.finishedAt ?? row.lastRun.startedAt)} (${row.lastRun.runId})`,
          ]),
        ),
      );
      return 0;
    },
  },
};

type PromotionAnswer = z.output<typeof promotionSchema>;

/** `--governance-override-reason r` as the request's `governanceOverride`. */
const governanceOverrideOf = (reason: string | undefined) =>
  reason === undefined ? {} : { governanceOverride: { reason } };

/** What the PII gate of a governed environment found, and the override approvers are asked to accept. */
function governanceLines(promotion: PromotionAnswer): string[] {
  const governance = promotion.governance;
  if (governance === undefined) return [];
  if (governance.violations.length === 0)
    return ['PII gate: passed (no PII flow into a DataSet below confidential)'];
  return [
    `PII gate: OVERRIDDEN (${governance.override?.reason ?? 'no reason'}); security must approve these flows into DataSets below confidential:`,
    ...governance.violations.map(
      (violation) => `  ${violation.path.join(' → ')} (${violation.classification ?? 'no classification'})`,
    ),
  ];
}

/** The required groups still to approve. */
function pendingOf(promotion: PromotionAnswer): string[] {
  const approved = new Set(
    promotion.approvals
      .filter((approval) => approval.decision === 'approve')
      .map((approval) => approval.group),
  );
  return promotion.requiredApprovals
    .map((required) => required.group)
    .filter((group) => !approved.has(group));
}

/** One line per fact of a promotion: where it goes, its status, what it waits for. */
function describePromotion(promotion: PromotionAnswer): string {
  const lines = [
    `${promotion.namespace}/${promotion.name} ${promotion.version} → ${promotion.env}/${promotion.cell}: ${promotion.status} (promotion ${promotion.id})${
      promotion.rollback === undefined ? '' : `, rollback from ${promotion.rollback.fromVersion}`
    }`,
  ];
  const pending = pendingOf(promotion);
  if (promotion.status === 'AWAITING_APPROVAL' && pending.length > 0) {
    lines.push(`waiting for approvals of ${pending.join(', ')} until ${shortTime(promotion.expiresAt)}`);
  }
  for (const approval of promotion.approvals) {
    lines.push(
      `${approval.decision === 'approve' ? 'approved' : 'rejected'} for ${approval.group} by ${approval.person}`,
    );
  }
  lines.push(...governanceLines(promotion));
  // The override's warning repeats what the PII gate lines above say.
  for (const warning of promotion.warnings.filter((w) => !w.startsWith('GOVERNANCE_PII_FLOW_OVERRIDDEN:')))
    lines.push(`warning: ${warning}`);
  if (promotion.error !== undefined) lines.push(`${promotion.error.code}: ${promotion.error.message}`);
  return lines.join('\n');
}

/** `approve` and `reject`: one decision on a promotion. */
async function decide(
  { args, client, out }: CommandContext,
  decision: 'approve' | 'reject',
): Promise<number> {
  const { positionals, values } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: { group: { type: 'string' }, comment: { type: 'string' } },
  });
  const id = positionals[0];
  if (id === undefined) throw new UsageError(`${decision} needs a promotion id`);
  const promotion = expect(
    await client.request('POST', `/v1/promotions/${encodeURIComponent(id)}/approvals`, {
      decision,
      ...(values.group === undefined ? {} : { group: values.group }),
      ...(values.comment === undefined ? {} : { comment: values.comment }),
    }),
    [200],
    promotionSchema,
  );
  out(describePromotion(promotion));
  return 0;
}

/** `role=principal` or `role=group:name`, as `--grant` and `--revoke` take them. */
function parseGrant(value: string): {
  role: NamespaceBindings['bindings'][number]['role'];
  kind: 'principals' | 'groups';
  who: string;
} {
  const at = value.indexOf('=');
  const role = namespaceRoleSchema.safeParse(at < 0 ? value : value.slice(0, at));
  const who = at < 0 ? '' : value.slice(at + 1);
  if (!role.success || who === '' || who === 'group:')
    throw new UsageError(
      `${value}: expected <viewer|publisher|deployer|admin>=<principal> or <role>=group:<group>`,
    );
  return who.startsWith('group:')
    ? { role: role.data, kind: 'groups', who: who.slice('group:'.length) }
    : { role: role.data, kind: 'principals', who };
}

/** The bindings with grants added and revocations removed; a role left with nobody is dropped. */
function changeBindings(
  current: NamespaceBindings['bindings'],
  grants: readonly string[],
  revokes: readonly string[],
): NamespaceBindings['bindings'] {
  const byRole = new Map(
    current.map((binding) => [
      binding.role,
      { role: binding.role, principals: [...binding.principals], groups: [...binding.groups] },
    ]),
  );
  for (const grant of grants.map(parseGrant)) {
    const binding = byRole.get(grant.role) ?? { role: grant.role, principals: [], groups: [] };
    if (!binding[grant.kind].includes(grant.who)) binding[grant.kind].push(grant.who);
    byRole.set(grant.role, binding);
  }
  for (const revoke of revokes.map(parseGrant)) {
    const binding = byRole.get(revoke.role);
    if (binding !== undefined)
      binding[revoke.kind] = binding[revoke.kind].filter((who) => who !== revoke.who);
  }
  return [...byRole.values()].filter((binding) => binding.principals.length + binding.groups.length > 0);
}

function bindingsText(bindings: NamespaceBindings): string {
  const header = `${bindings.namespace}: revision ${bindings.revision}${
    bindings.updatedBy === undefined ? '' : `, by ${bindings.updatedBy} at ${shortTime(bindings.updatedAt)}`
  }`;
  return `${header}\n${table(
    ['ROLE', 'PRINCIPALS', 'GROUPS'],
    bindings.bindings.map((binding) => [
      binding.role,
      binding.principals.join(',') || '-',
      binding.groups.join(',') || '-',
    ]),
  )}`;
}

/** `bindings <namespace>`: shows them; `--set` replaces them from a file, `--grant`/`--revoke` edit them. */
async function bindings({ args, client, out }: CommandContext): Promise<number> {
  const { positionals, values } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      set: { type: 'string' },
      grant: { type: 'string', multiple: true },
      revoke: { type: 'string', multiple: true },
    },
  });
  const namespace = positionals[0];
  if (namespace === undefined) throw new UsageError('bindings needs a namespace');
  const path = `/v1/namespaces/${encodeURIComponent(namespace)}/bindings`;
  const grants = values.grant ?? [];
  const revokes = values.revoke ?? [];
  if (values.set !== undefined && grants.length + revokes.length > 0)
    throw new UsageError('--set replaces every binding: give it alone, or --grant/--revoke');
  if (values.set !== undefined) {
    let file: unknown;
    try {
      file = JSON.parse(await readFile(resolve(values.set), 'utf8'));
    } catch (error) {
      throw new UsageError(`${values.set}: ${error instanceof Error ? error.message : String(error)}`);
    }
    // A bare list of bindings, or the request body itself; the API validates either (errors name the field).
    const body = Array.isArray(file) ? { bindings: file } : file;
    out(bindingsText(expect(await client.request('PUT', path, body), [200], namespaceBindingsSchema)));
    return 0;
  }
  const current = expect(await client.request('GET', path), [200], namespaceBindingsSchema);
  if (grants.length + revokes.length === 0) {
    out(bindingsText(current));
    return 0;
  }
  // The revision read: a concurrent change is refused (409) rather than overwritten.
  const written = expect(
    await client.request('PUT', path, {
      bindings: changeBindings(current.bindings, grants, revokes),
      revision: current.revision,
    }),
    [200],
    namespaceBindingsSchema,
  );
  out(bindingsText(written));
  return 0;
}

const auditRows = (records: readonly AuditRecordView[]) =>
  table(
    ['AT', 'ACTOR', 'ACTION', 'TARGET', 'OUTCOME', 'REQUEST'],
    records.map((record) => [
      shortTime(record.at),
      record.person,
      record.action,
      record.target,
      `${record.outcome}${record.code === undefined ? '' : ` ${record.code}`}`,
      record.requestId ?? '-',
    ]),
  );

/** `audit`: one page of the trail, newest first, as a table (or the API's JSON with `--json`). */
async function audit({ args, client, out }: CommandContext): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      namespace: { type: 'string' },
      actor: { type: 'string' },
      action: { type: 'string' },
      target: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      limit: { type: 'string' },
      cursor: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const { json, ...filters } = values;
  const page = expect(await client.request('GET', `/v1/audit${query(filters)}`), [200], auditPageSchema);
  if (json === true) {
    out(JSON.stringify(page, null, 2));
    return 0;
  }
  out(auditRows(page.items));
  if (page.nextCursor !== undefined) out(`more: --cursor ${page.nextCursor}`);
  return 0;
}
