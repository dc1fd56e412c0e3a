import type { Violation } from '../../contracts/api/governance.js';
import type { PromotionGovernance } from '../../contracts/api/promotions.js';
import type { PromotionRecord } from '../../ports/deployment-store.js';
import { DependencyUnavailableError, UnprocessableError } from '../errors.js';
import { dataSetLabel } from '../governance/pii-flow.js';
import type { PiiCheck, PiiGateCheck } from '../governance/pii-gate.js';
import { type Environment, governanceApprovalGroup } from './environments.js';

/**
 * The PII gate of governed environments (ADR "PII gate at promotion"), as the promotion use cases apply it:
 * at the request (refuse, or record an override that waits for `security`) and again at the Guard stage
 * (nothing new since the request, the override's approval in place). Pure but for `checkPii`.
 */

/**
 * An override covers at most this many violations: the promotion records each of them (items stay far below
 * DynamoDB's 400 KB), and a version whose PII reaches more DataSets than this needs their classifications
 * fixed, not a signature.
 */
export const maxOverriddenViolations = 100;

/** Unmarked PII columns listed as warnings at most (the governance report lists them all). */
const maxColumnWarnings = 20;

interface Target {
  readonly namespace: string;
  readonly name: string;
  readonly version: string;
  readonly env: string;
  readonly cell: string;
}

/** A violation's path as the problem and the CLI show it: `crm/users → sales/daily`. */
export const pathText = (violation: Violation): string => violation.path.join(' → ');

/**
 * Runs the check. It reads the whole registry and the lineage around the version: if any of it cannot be
 * read the answer is 503 `GOVERNANCE_CHECK_UNAVAILABLE` (retryable) — never a pass.
 */
export async function checkPii(check: PiiCheck, target: Target): Promise<PiiGateCheck> {
  try {
    return await check(target);
  } catch (cause) {
    throw new DependencyUnavailableError(
      'GOVERNANCE_CHECK_UNAVAILABLE',
      `${target.env} is governed: promotions into it are checked for PII flowing into DataSets classified below confidential, and the check of ${target.namespace}/${target.name} ${target.version} could not read the registry and lineage. Nothing was recorded; request it again.`,
      { cause },
    );
  }
}

/** What a request into a governed environment records, once the gate let it through. */
export interface GateOutcome {
  readonly governance: PromotionGovernance;
  /** The groups that must approve: the environment's, and `security` for an override. */
  readonly approvals: readonly string[];
  readonly warnings: readonly string[];
}

/** The refusal of a PII flow: one `errors[]` entry per violation, its path in `path`. */
function refusal(target: Target, violations: readonly Violation[], detail: string): UnprocessableError {
  const shown = violations.slice(0, maxOverriddenViolations);
  return new UnprocessableError(
    'GOVERNANCE_PII_FLOW',
    `${target.env} is governed: deploying ${target.namespace}/${target.name} ${target.version} would send PII into ${violations.length} DataSet${violations.length === 1 ? '' : 's'} classified below confidential (${shown
      .slice(0, 3)
      .map(pathText)
      .join('; ')}${violations.length > 3 ? '; …' : ''}). ${detail}`,
    {
      problems: shown.map((violation) => ({
        code: violation.code,
        path: pathText(violation),
        message: violation.message,
      })),
    },
  );
}

/**
 * The gate at a request into a governed environment: no violation passes; violations without
 * `governanceOverride` are refused (422 `GOVERNANCE_PII_FLOW`, nothing recorded); with it the promotion
 * records them and the override, and also waits for `security`.
 */
export function gateRequest(input: {
  readonly env: Environment;
  readonly target: Target;
  readonly check: PiiGateCheck;
  readonly override?: { readonly reason: string } | undefined;
  readonly at: string;
}): GateOutcome {
  const { env, target, check, override, at } = input;
  const warnings = check.columnViolations
    .slice(0, maxColumnWarnings)
    .map((violation) => `${violation.code}: ${violation.message}`);
  if (check.columnViolations.length > maxColumnWarnings) {
    warnings.push(
      `PII_COLUMN_UNMARKED: ${check.columnViolations.length - maxColumnWarnings} more columns (see the governance report)`,
    );
  }
  if (!check.lineageComplete) {
    warnings.push(
      'GOVERNANCE_LINEAGE_INCOMPLETE: the PII check read lineage up to its node budget; flows beyond it were not checked',
    );
  }
  const { violations } = check;
  if (violations.length === 0) {
    if (override !== undefined) {
      warnings.push('GOVERNANCE_OVERRIDE_UNUSED: the PII check found nothing to override');
    }
    return { governance: { checkedAt: at, violations: [] }, approvals: env.approvals, warnings };
  }
  if (override === undefined) {
    throw refusal(
      target,
      violations,
      `Classify them confidential or restricted, or stop the flow; or give governanceOverride.reason, and the promotion also waits for an approval of group ${governanceApprovalGroup}.`,
    );
  }
  if (violations.length > maxOverriddenViolations) {
    throw refusal(
      target,
      violations,
      `An override covers at most ${maxOverriddenViolations} DataSets: classify them confidential or restricted first.`,
    );
  }
  const approvals = env.approvals.includes(governanceApprovalGroup)
    ? env.approvals
    : [...env.approvals, governanceApprovalGroup];
  warnings.push(
    `GOVERNANCE_PII_FLOW_OVERRIDDEN: PII would reach ${violations.map((v) => dataSetLabel(v.dataset)).join(', ')} (classified below confidential); override: ${override.reason}`,
  );
  return {
    governance: { checkedAt: at, violations: [...violations], override: { reason: override.reason } },
    approvals,
    warnings,
  };
}

/**
 * What the Guard stage finds wrong with a promotion into a governed environment before it deploys: an
 * override whose `security` approval is not required by the record (a record changed around the rules), and
 * violations the check finds now that the promotion did not record — approvers accepted only those listed.
 * `check` is the gate's check run again now (undefined for an environment that is not governed).
 */
export function governanceGuardProblems(
  env: Environment,
  promotion: PromotionRecord,
  check: PiiGateCheck | undefined,
): { readonly approvals: string[]; readonly violations: Violation[] } {
  const required = new Set(promotion.requiredApprovals.map((r) => r.group));
  const needed = [
    ...env.approvals,
    ...(promotion.governance?.override === undefined ? [] : [governanceApprovalGroup]),
  ];
  const approvals = needed
    .filter((group) => !required.has(group))
    .map((group) =>
      group === governanceApprovalGroup && promotion.governance?.override !== undefined
        ? `the governance override needs an approval of group ${group}, which the promotion does not require`
        : `${env.name} needs an approval of group ${group}, which the promotion does not require`,
    );
  if (check === undefined) return { approvals, violations: [] };
  const accepted = new Set(
    (promotion.governance?.override === undefined ? [] : promotion.governance.violations).map((violation) =>
      dataSetLabel(violation.dataset),
    ),
  );
  return {
    approvals,
    violations: check.violations.filter((violation) => !accepted.has(dataSetLabel(violation.dataset))),
  };
}

/** The Guard's refusal of violations found since the request. */
export function newViolationsRefusal(promotion: PromotionRecord, violations: readonly Violation[]) {
  return refusal(
    promotion,
    violations,
    promotion.governance?.override === undefined
      ? 'The check passed when the promotion was requested; the graph changed since. Request it again.'
      : 'The override covers only the violations recorded at the request; the graph changed since. Request it again.',
  );
}
