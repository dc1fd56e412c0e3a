import { describe, expect, it } from 'vitest';
import type { Violation } from '../../../lib/contracts/api/governance.js';
import { DependencyUnavailableError, UnprocessableError } from '../../../lib/domain/errors.js';
import type { PiiGateCheck } from '../../../lib/domain/governance/pii-gate.js';
import type { Environment } from '../../../lib/domain/promotions/environments.js';
import {
  checkPii,
  gateRequest,
  governanceGuardProblems,
  maxOverriddenViolations,
} from '../../../lib/domain/promotions/governance-gate.js';
import type { PromotionRecord } from '../../../lib/ports/deployment-store.js';

/** The PII gate's decisions at a request and at the Guard stage, on checks given here. */

const prod: Environment = { name: 'prod', approvals: ['owners', 'security'], governed: true };
const staging: Environment = { name: 'staging', approvals: ['owners'], governed: true };
const target = { namespace: 'sales', name: 'exporter', version: '1.0.0', env: 'prod', cell: 'blue' };
const at = '2026-11-27T12:00:00.000Z';

const violation = (name: string, classification = 'internal'): Violation => ({
  code: 'PII_UNDERCLASSIFIED',
  dataset: { namespace: 'sales', name },
  classification,
  path: ['crm/users', `sales/${name}`],
  message: `DataSet sales/${name} is classified ${classification} but would receive PII`,
});

const check = (violations: Violation[], extra: Partial<PiiGateCheck> = {}): PiiGateCheck => ({
  violations,
  columnViolations: [],
  flows: [],
  lineageComplete: true,
  ...extra,
});

const promotion = (overrides: Partial<PromotionRecord>): PromotionRecord => ({
  id: 'p-1',
  ...target,
  digest: 'sha256:1',
  status: 'DEPLOYING',
  requestedBy: 'rita',
  requestedByPerson: 'rita',
  requiredApprovals: [{ group: 'owners' }, { group: 'security' }],
  approvals: [],
  stages: [],
  warnings: [],
  createdAt: at,
  updatedAt: at,
  revision: 1,
  ...overrides,
});

describe('the PII gate at a request', () => {
  it('passes a version without violations, recording that it checked', () => {
    expect(gateRequest({ env: prod, target, check: check([]), at })).toEqual({
      governance: { checkedAt: at, violations: [] },
      approvals: ['owners', 'security'],
      warnings: [],
    });
  });

  it('refuses violations without an override: 422 GOVERNANCE_PII_FLOW, one error per violation with its path', () => {
    let refusal: unknown;
    try {
      gateRequest({
        env: prod,
        target,
        check: check([violation('mailing'), violation('exports', 'public')]),
        at,
      });
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(UnprocessableError);
    expect(refusal).toMatchObject({
      code: 'GOVERNANCE_PII_FLOW',
      message: expect.stringContaining('governanceOverride.reason'),
      problems: [
        {
          code: 'PII_UNDERCLASSIFIED',
          path: 'crm/users → sales/mailing',
          message: violation('mailing').message,
        },
        {
          code: 'PII_UNDERCLASSIFIED',
          path: 'crm/users → sales/exports',
          message: violation('exports', 'public').message,
        },
      ],
    });
  });

  it('lets an override through, recording the violations and the reason, with security required', () => {
    const outcome = gateRequest({
      env: staging,
      target,
      check: check([violation('mailing')]),
      override: { reason: 'DPA-17' },
      at,
    });
    expect(outcome.approvals).toEqual(['owners', 'security']);
    expect(outcome.governance).toEqual({
      checkedAt: at,
      violations: [violation('mailing')],
      override: { reason: 'DPA-17' },
    });
    expect(outcome.warnings).toEqual([
      'GOVERNANCE_PII_FLOW_OVERRIDDEN: PII would reach sales/mailing (classified below confidential); override: DPA-17',
    ]);
    // An environment that requires security already does not ask twice.
    expect(
      gateRequest({ env: prod, target, check: check([violation('mailing')]), override: { reason: 'x' }, at })
        .approvals,
    ).toEqual(['owners', 'security']);
  });

  it(`refuses an override of more than ${maxOverriddenViolations} DataSets: those need classifying, not a signature`, () => {
    const many = Array.from({ length: maxOverriddenViolations + 1 }, (_, index) => violation(`d${index}`));
    expect(() =>
      gateRequest({ env: prod, target, check: check(many), override: { reason: 'all of them' }, at }),
    ).toThrow(
      expect.objectContaining({ code: 'GOVERNANCE_PII_FLOW', message: expect.stringContaining('at most') }),
    );
  });

  it('records an unused override, unmarked PII columns and an incomplete lineage walk as warnings', () => {
    const column: Violation = {
      code: 'PII_COLUMN_UNMARKED',
      dataset: { namespace: 'sales', name: 'vault' },
      column: 'mail',
      path: ['crm/users.email', 'sales/vault.mail'],
      message:
        'Column mail of sales/vault is computed from PII column crm/users.email but is not marked pii: true',
    };
    const outcome = gateRequest({
      env: prod,
      target,
      check: check([], { columnViolations: [column], lineageComplete: false }),
      override: { reason: 'just in case' },
      at,
    });
    expect(outcome.governance).toEqual({ checkedAt: at, violations: [] });
    expect(outcome.warnings).toEqual([
      `PII_COLUMN_UNMARKED: ${column.message}`,
      expect.stringMatching(/^GOVERNANCE_LINEAGE_INCOMPLETE: /),
      'GOVERNANCE_OVERRIDE_UNUSED: the PII check found nothing to override',
    ]);
  });

  it('turns a check that could not read into 503 GOVERNANCE_CHECK_UNAVAILABLE, never a pass', async () => {
    const failing = async (): Promise<PiiGateCheck> => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:8000');
    };
    await expect(checkPii(failing, target)).rejects.toBeInstanceOf(DependencyUnavailableError);
    await expect(checkPii(failing, target)).rejects.toMatchObject({ code: 'GOVERNANCE_CHECK_UNAVAILABLE' });
  });
});

describe('the PII gate at the Guard stage', () => {
  const overridden = promotion({
    governance: { checkedAt: at, violations: [violation('mailing')], override: { reason: 'DPA-17' } },
  });

  it('accepts the violations the override recorded, and nothing else', () => {
    expect(governanceGuardProblems(prod, overridden, check([violation('mailing')]))).toEqual({
      approvals: [],
      violations: [],
    });
    expect(
      governanceGuardProblems(prod, overridden, check([violation('mailing'), violation('exports')]))
        .violations,
    ).toEqual([violation('exports')]);
  });

  it('accepts nothing for a promotion that passed the check when requested', () => {
    const passed = promotion({ governance: { checkedAt: at, violations: [] } });
    expect(governanceGuardProblems(prod, passed, check([violation('mailing')])).violations).toEqual([
      violation('mailing'),
    ]);
  });

  it('finds an override whose record does not require security, and a group the environment requires missing', () => {
    const tampered = { ...overridden, requiredApprovals: [{ group: 'owners' }] };
    expect(governanceGuardProblems(staging, tampered, undefined).approvals).toEqual([
      'the governance override needs an approval of group security, which the promotion does not require',
    ]);
    expect(governanceGuardProblems(prod, promotion({ requiredApprovals: [] }), undefined).approvals).toEqual([
      'prod needs an approval of group owners, which the promotion does not require',
      'prod needs an approval of group security, which the promotion does not require',
    ]);
  });
});
