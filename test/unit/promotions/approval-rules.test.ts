import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GroupDirectory } from '../../../lib/domain/identity/groups.js';
import { callerFor } from '../../../lib/domain/identity/principal.js';
import {
  type DecisionEvent,
  guardProblems,
  type PromotionEvent,
  transition,
} from '../../../lib/domain/promotions/promotion-state.js';
import type { PromotionRecord } from '../../../lib/ports/deployment-store.js';

const account = '111122223333';
const session = (role: string, name: string) => `arn:aws:sts::${account}:assumed-role/${role}/${name}`;
const user = (name: string) => `arn:aws:iam::${account}:user/${name}`;

/** owners: every session of role Owners; security: every session of role Security, and the user dave. */
const directory = new GroupDirectory({
  owners: [`arn:aws:iam::${account}:role/Owners`],
  security: [`arn:aws:iam::${account}:role/Security`, user('dave')],
});

const createdAt = '2026-03-01T10:00:00.000Z';
const expiresAt = '2026-03-08T10:00:00.000Z';
const at = (minutes: number) => new Date(Date.parse(createdAt) + minutes * 60_000).toISOString();

function promotion(requester: string, groups: readonly string[] = ['owners', 'security']): PromotionRecord {
  const caller = callerFor(requester);
  return {
    id: 'p1',
    namespace: 'sales',
    name: 'report',
    version: '1.2.0',
    digest: `sha256:${'a'.repeat(64)}`,
    env: groups.length === 2 ? 'prod' : 'int',
    cell: 'blue',
    status: 'AWAITING_APPROVAL',
    requestedBy: caller.principal,
    requestedByPerson: caller.person,
    requiredApprovals: groups.map((group) => ({ group })),
    approvals: [],
    stages: [
      { name: 'Validate', status: 'SUCCEEDED', at: createdAt },
      { name: 'Approve', status: 'IN_PROGRESS', at: createdAt },
      { name: 'Guard', status: 'PENDING' },
      { name: 'Deploy', status: 'PENDING' },
    ],
    warnings: [],
    createdAt,
    updatedAt: createdAt,
    expiresAt,
    revision: 1,
  };
}

function decision(
  principal: string,
  choice: 'approve' | 'reject' = 'approve',
  group?: string,
  minute = 1,
): DecisionEvent {
  return {
    type: 'decide',
    decision: choice,
    at: at(minute),
    caller: callerFor(principal),
    callerGroups: directory.groupsOf(principal),
    group,
  };
}

/** Applies events in order, keeping refused ones out; answers the last promotion and every refusal code. */
function run(start: PromotionRecord, events: readonly PromotionEvent[]) {
  let current = start;
  const refusals: string[] = [];
  for (const event of events) {
    const result = transition(current, event);
    if (result.ok) current = result.promotion;
    else refusals.push(result.refusal.code);
  }
  return { promotion: current, refusals };
}

function refusalOf(start: PromotionRecord, event: PromotionEvent): string | undefined {
  const result = transition(start, event);
  return result.ok ? undefined : result.refusal.code;
}

describe('the approval rules', () => {
  const alice = session('Owners', 'alice');
  const carol = session('Security', 'carol');
  const requester = session('Owners', 'ron');

  it('deploys prod only after an owner and a security member, two people, approved', () => {
    const { promotion: afterOwner } = run(promotion(requester), [decision(alice)]);
    expect(afterOwner.status).toBe('AWAITING_APPROVAL');

    const result = transition(afterOwner, decision(carol));

    expect(result.ok && result.promotion.status).toBe('DEPLOYING');
    expect(result.ok && result.actions.map((action) => action.type)).toEqual([
      'sync-pipeline',
      'publish',
      'audit',
    ]);
    expect(result.ok && result.promotion.stages.find((s) => s.name === 'Approve')?.status).toBe('SUCCEEDED');
  });

  it('refuses the requester, whatever group or role they approve through (403 SELF_APPROVAL)', () => {
    const start = promotion(requester);
    expect(refusalOf(start, decision(requester))).toBe('SELF_APPROVAL');
    // The same person (session name ron) through the Security role is still the requester.
    expect(refusalOf(start, decision(session('Security', 'ron'), 'approve', 'security'))).toBe(
      'SELF_APPROVAL',
    );
    expect(refusalOf(start, decision(requester, 'reject'))).toBe('SELF_APPROVAL');
  });

  it('counts a person once: alice through Owners and through Security is one approver (409)', () => {
    const { promotion: afterOwner } = run(promotion(requester), [decision(alice)]);
    expect(refusalOf(afterOwner, decision(session('Security', 'alice'), 'approve', 'security'))).toBe(
      'APPROVER_ALREADY_COUNTED',
    );
  });

  it('counts two sessions of one role as two people only when their names differ', () => {
    const { promotion: afterOwner } = run(promotion(requester, ['owners']), [decision(alice)]);
    expect(afterOwner.status).toBe('DEPLOYING');
    const both = promotion(requester, ['owners', 'security']);
    const twice = run(both, [decision(alice), decision(session('Owners', 'alice'), 'approve', 'security')]);
    expect(twice.refusals).toEqual(['APPROVAL_GROUP_FORBIDDEN']);
  });

  it('refuses a group the caller is not in, and a group the promotion does not need', () => {
    expect(refusalOf(promotion(requester), decision(alice, 'approve', 'security'))).toBe(
      'APPROVAL_GROUP_FORBIDDEN',
    );
    expect(refusalOf(promotion(requester), decision(user('eve')))).toBe('APPROVAL_GROUP_FORBIDDEN');
    expect(refusalOf(promotion(requester, ['owners']), decision(carol, 'approve', 'security'))).toBe(
      'APPROVAL_GROUP_NOT_REQUIRED',
    );
  });

  it('asks a member of both pending groups to name one', () => {
    const both = new GroupDirectory({ owners: [user('bo')], security: [user('bo')] });
    const event = { ...decision(user('bo')), callerGroups: both.groupsOf(user('bo')) };
    expect(refusalOf(promotion(requester), event)).toBe('APPROVAL_GROUP_AMBIGUOUS');
  });

  it('treats a repeated approval as the same approval, and a second approver of a done group as a conflict', () => {
    const { promotion: afterOwner } = run(promotion(requester), [decision(alice)]);
    const repeat = transition(afterOwner, decision(alice));
    expect(repeat.ok && repeat.changed).toBe(false);
    expect(repeat.ok && repeat.actions).toEqual([{ type: 'sync-pipeline' }]);
    expect(refusalOf(afterOwner, decision(session('Owners', 'olga')))).toBe(
      'APPROVAL_GROUP_ALREADY_APPROVED',
    );
  });

  it('ends a promotion on one rejection, after which it takes no decision', () => {
    const { promotion: rejected } = run(promotion(requester), [decision(alice), decision(carol, 'reject')]);
    expect(rejected.status).toBe('REJECTED');
    expect(rejected.stages.map((stage) => stage.status)).toEqual([
      'SUCCEEDED',
      'FAILED',
      'SKIPPED',
      'SKIPPED',
    ]);
    expect(refusalOf(rejected, decision(session('Security', 'sam')))).toBe('PROMOTION_ENDED');
  });

  it('expires when the approval timeout passes, and refuses decisions from then on', () => {
    const start = promotion(requester);
    expect(transition(start, { type: 'expire', at: at(60) })).toMatchObject({ ok: true, changed: false });
    const late = { ...decision(alice), at: expiresAt };
    expect(refusalOf(start, late)).toBe('PROMOTION_ENDED');
    const expired = transition(start, { type: 'expire', at: expiresAt });
    expect(expired.ok && expired.promotion.status).toBe('EXPIRED');
  });

  it('maps a failed pipeline after the timeout to EXPIRED and before it to FAILED', () => {
    const start = promotion(requester);
    const timedOut = transition(start, {
      type: 'pipeline-ended',
      state: 'FAILED',
      at: '2026-03-08T10:00:05Z',
    });
    expect(timedOut.ok && timedOut.promotion.status).toBe('EXPIRED');
    const stopped = transition(start, { type: 'pipeline-ended', state: 'STOPPED', at: at(5) });
    expect(stopped.ok && stopped.promotion).toMatchObject({
      status: 'FAILED',
      error: { code: 'PIPELINE_STOPPED' },
    });
  });

  it('never deploys a promotion whose approvals are not complete, whatever the events say', () => {
    const { promotion: afterOwner } = run(promotion(requester), [decision(alice)]);
    expect(transition(afterOwner, { type: 'deployed', at: at(5) })).toMatchObject({
      ok: true,
      changed: false,
    });
    expect(guardProblems(afterOwner, directory)).toEqual([
      'the promotion is AWAITING_APPROVAL, not DEPLOYING',
      'no recorded approval of group security',
    ]);
  });

  it('ignores a late event: an ended promotion and a finished stage never move back', () => {
    const { promotion: deployed } = run(promotion(requester), [
      decision(alice),
      decision(carol),
      { type: 'deployed', at: at(3) },
    ]);
    expect(deployed.status).toBe('DEPLOYED');
    for (const late of [
      { type: 'stage', stage: 'Approve', status: 'IN_PROGRESS', at: at(4) },
      { type: 'pipeline-ended', state: 'FAILED', at: at(5) },
      { type: 'failed', stage: 'Deploy', at: at(5), error: { code: 'X', message: 'x' } },
      { type: 'expire', at: expiresAt },
    ] as const) {
      expect(transition(deployed, late)).toMatchObject({ ok: true, changed: false });
    }
  });

  it('the guard refuses approvals whose approver left the group since', () => {
    const { promotion: approved } = run(promotion(requester), [decision(alice), decision(user('dave'))]);
    expect(guardProblems(approved, directory)).toEqual([]);
    const shrunk = new GroupDirectory({ owners: [`arn:aws:iam::${account}:role/Owners`], security: [] });
    expect(guardProblems(approved, shrunk)).toEqual([`${user('dave')} is not a member of group security`]);
  });
});

// --- The invariant, as a property ------------------------------------------------------------------

/** Principals: people through roles (alice both an owner and a security member), users, outsiders. */
const principals = [
  session('Owners', 'alice'),
  session('Security', 'alice'),
  session('Owners', 'bob'),
  session('Owners', 'bob-2'),
  session('Security', 'carol'),
  session('Security', 'ron'),
  session('Owners', 'ron'),
  session('Readers', 'mallory'),
  user('dave'),
  user('eve'),
  `arn:aws:iam::${account}:root`,
];

/** Ground truth, written independently of the directory: who is in which group, and who is who. */
function truth(principal: string): { person: string; groups: string[] } {
  const assumed = /assumed-role\/([^/]+)\/(.+)$/.exec(principal);
  if (assumed !== null) {
    const role = assumed[1];
    return {
      person: assumed[2] ?? '',
      groups: role === 'Owners' ? ['owners'] : role === 'Security' ? ['security'] : [],
    };
  }
  if (principal.endsWith(':root')) return { person: 'root', groups: [] };
  const name = principal.slice(principal.lastIndexOf('/') + 1);
  return { person: name, groups: name === 'dave' ? ['security'] : [] };
}

const eventArbitrary: fc.Arbitrary<PromotionEvent> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .record({
        principal: fc.constantFrom(...principals),
        choice: fc.constantFrom<'approve' | 'reject'>('approve', 'approve', 'approve', 'reject'),
        group: fc.option(fc.constantFrom('owners', 'security', 'auditors'), { nil: undefined }),
        minute: fc.integer({ min: 0, max: 8 * 24 * 60 }),
      })
      .map(({ principal, choice, group, minute }) => decision(principal, choice, group, minute)),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0, max: 8 * 24 * 60 }).map((m) => ({ type: 'expire', at: at(m) }) as const),
  },
  { weight: 1, arbitrary: fc.constant({ type: 'deployed', at: at(1) } as const) },
  {
    weight: 1,
    arbitrary: fc
      .record({
        state: fc.constantFrom('SUCCEEDED', 'FAILED', 'CANCELED', 'STOPPED', 'SUPERSEDED' as const),
        minute: fc.integer({ min: 0, max: 8 * 24 * 60 }),
      })
      .map(({ state, minute }) => ({ type: 'pipeline-ended', state, at: at(minute) }) as const),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({
        stage: fc.constantFrom('Validate', 'Approve', 'Guard', 'Deploy' as const),
        status: fc.constantFrom('IN_PROGRESS', 'SUCCEEDED', 'FAILED' as const),
      })
      .map(({ stage, status }) => ({ type: 'stage', stage, status, at: at(2) }) as const),
  },
);

describe('the approval invariant (property)', () => {
  it('no sequence of requests by any principals deploys to prod without an owner and a security member, two distinct people, neither the requester', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...principals),
        fc.array(eventArbitrary, { maxLength: 30 }),
        (requester, events) => {
          let current = promotion(requester);
          const statuses = [current.status];
          let deployed = false;
          for (const event of events) {
            const result = transition(current, event);
            if (!result.ok) continue;
            const previous = current;
            current = result.promotion;
            statuses.push(current.status);
            // Forward only: an ended promotion never changes, stages never go back, approvals stay.
            if (!['AWAITING_APPROVAL', 'DEPLOYING'].includes(previous.status)) {
              expect(current).toEqual(previous);
            }
            previous.stages.forEach((stage, index) => {
              const rank = { PENDING: 0, IN_PROGRESS: 1, SUCCEEDED: 2, FAILED: 2, SKIPPED: 2 };
              const next = current.stages[index];
              expect(next && rank[next.status]).toBeGreaterThanOrEqual(rank[stage.status]);
              if (rank[stage.status] === 2) expect(next).toEqual(stage);
            });
            expect(current.approvals.slice(0, previous.approvals.length)).toEqual(previous.approvals);
            // The pipeline: once DEPLOYING, the guard may let Deploy run.
            if (current.status === 'DEPLOYING' && guardProblems(current, directory).length === 0) {
              const deploy = transition(current, { type: 'deployed', at: at(3) });
              if (deploy.ok && deploy.promotion.status === 'DEPLOYED') {
                current = deploy.promotion;
                deployed = true;
              }
            }
          }
          if (current.status !== 'DEPLOYED' && !deployed) return;
          const requesterPerson = truth(requester).person;
          const approvers = current.approvals.filter((approval) => approval.decision === 'approve');
          const owner = approvers.find(
            (a) => a.group === 'owners' && truth(a.principal).groups.includes('owners'),
          );
          const security = approvers.find(
            (a) => a.group === 'security' && truth(a.principal).groups.includes('security'),
          );
          expect(owner).toBeDefined();
          expect(security).toBeDefined();
          const ownerPerson = truth(owner?.principal ?? '').person;
          const securityPerson = truth(security?.principal ?? '').person;
          expect(ownerPerson).not.toBe(securityPerson);
          expect([ownerPerson, securityPerson]).not.toContain(requesterPerson);
          expect(current.approvals.some((approval) => approval.decision === 'reject')).toBe(false);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('the property is not vacuous: some generated sequences do deploy', () => {
    const samples = fc.sample(
      fc.tuple(fc.constantFrom(...principals), fc.array(eventArbitrary, { minLength: 10, maxLength: 30 })),
      { numRuns: 3000, seed: 42 },
    );
    const deployed = samples.filter(([requester, events]) => {
      let current = promotion(requester);
      for (const event of events) {
        const result = transition(current, event);
        if (result.ok) current = result.promotion;
        if (current.status === 'DEPLOYING' && guardProblems(current, directory).length === 0) return true;
      }
      return false;
    });
    expect(deployed.length).toBeGreaterThan(10);
  });
});
