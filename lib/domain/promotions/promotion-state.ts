import {
  type Approval,
  endedPromotionStatuses,
  type PromotionStageName,
  type PromotionStatus,
} from '../../contracts/api/promotions.js';
import type { PromotionRecord } from '../../ports/deployment-store.js';
import type { GroupDirectory } from '../identity/groups.js';
import type { Caller } from '../identity/principal.js';

/**
 * The approval rules as a reducer (ADR "Promotion approvals"): (promotion, event) → the next promotion and
 * the effects to carry out, or a refusal. Pure: the use cases read the record, apply an event, and write
 * the result with a conditional write on its revision, so concurrent or repeated events serialize and a
 * late one is a no-op — a promotion's status and its stages only ever move forward.
 */

export type Decision = 'approve' | 'reject';

/** `POST /v1/promotions/{id}/approvals` by a caller, with the groups the directory puts them in. */
export interface DecisionEvent {
  readonly type: 'decide';
  readonly decision: Decision;
  readonly at: string;
  readonly caller: Caller;
  /** Every group the caller is a member of (the group directory's answer). */
  readonly callerGroups: readonly string[];
  readonly group?: string | undefined;
  readonly comment?: string | undefined;
}

/** How a pipeline execution ended (CodePipeline's final pipeline states). */
export type PipelineEndState = 'SUCCEEDED' | 'FAILED' | 'CANCELED' | 'STOPPED' | 'SUPERSEDED';

export type PromotionEvent =
  | DecisionEvent
  /** The approval timeout passed (a timer, a read, or CodePipeline's own timeout). */
  | { readonly type: 'expire'; readonly at: string }
  /** A stage started or ended (pipeline events, or the in-process stages). */
  | {
      readonly type: 'stage';
      readonly stage: PromotionStageName;
      readonly status: 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED';
      readonly at: string;
      readonly message?: string | undefined;
    }
  /** The Deploy stage committed the deployment. */
  | { readonly type: 'deployed'; readonly at: string }
  /** A stage refused or failed: the promotion ends FAILED with its code. */
  | {
      readonly type: 'failed';
      readonly at: string;
      readonly stage: PromotionStageName;
      readonly error: { readonly code: string; readonly message: string };
    }
  /** The pipeline execution ended. */
  | { readonly type: 'pipeline-ended'; readonly at: string; readonly state: PipelineEndState };

export type PromotionAuditAction =
  | 'promotion.approved'
  | 'promotion.rejected'
  | 'promotion.expired'
  | 'promotion.failed'
  | 'promotion.deployed';

/** What the use case must do after a transition; adapters carry them out. */
export type PromotionAction =
  /**
   * Hand the recorded decisions to the pipeline's approval actions still waiting for one (CodePipeline:
   * PutApprovalResult); when the approvals are complete the pipeline goes on to Guard and Deploy.
   */
  | { readonly type: 'sync-pipeline' }
  | {
      readonly type: 'publish';
      readonly detailType: 'Promotion Approved' | 'Promotion Rejected';
      readonly group: string;
      readonly person: string;
    }
  | {
      readonly type: 'audit';
      readonly action: PromotionAuditAction;
      /** Makes the entry's id unique within the promotion and stable across retries. */
      readonly key: string;
      readonly actor: string;
      readonly details: Readonly<Record<string, unknown>>;
    };

/** Why a decision was refused; the use case maps `kind` to an HTTP status. */
export interface Refusal {
  readonly kind: 'forbidden' | 'conflict' | 'invalid' | 'unprocessable';
  readonly code: string;
  readonly message: string;
}

export type Transition =
  | {
      readonly ok: true;
      readonly promotion: PromotionRecord;
      /** Whether the record must be written. */
      readonly changed: boolean;
      readonly actions: readonly PromotionAction[];
    }
  | { readonly ok: false; readonly refusal: Refusal };

/** Whether a promotion is still under way (at most one per package × environment × cell). */
export function isOpen(status: PromotionStatus): boolean {
  return !endedPromotionStatuses.has(status);
}

/** The required groups without an approval yet, in the environment's order. */
export function pendingGroups(promotion: PromotionRecord): string[] {
  const approved = new Set(
    promotion.approvals.filter((approval) => approval.decision === 'approve').map((a) => a.group),
  );
  return promotion.requiredApprovals.map((required) => required.group).filter((g) => !approved.has(g));
}

/** Whether the approval timeout has passed at `at`. */
export function expiryDue(promotion: PromotionRecord, at: string): boolean {
  return (
    promotion.status === 'AWAITING_APPROVAL' &&
    promotion.expiresAt !== undefined &&
    Date.parse(at) >= Date.parse(promotion.expiresAt)
  );
}

/**
 * What the Guard stage checks before anything is deployed, from the recorded approvals alone: every
 * required group approved by a person who is (still) a member of it, none of them the requester, no
 * person counted for two groups, and no rejection. An approval given in the CodePipeline console is not
 * recorded, so its group shows as missing here. Returns the problems; none means the deploy may run.
 */
export function guardProblems(promotion: PromotionRecord, groups: GroupDirectory): string[] {
  const problems: string[] = [];
  if (promotion.status !== 'DEPLOYING') {
    problems.push(`the promotion is ${promotion.status}, not DEPLOYING`);
  }
  if (promotion.approvals.some((approval) => approval.decision === 'reject')) {
    problems.push('the promotion was rejected');
  }
  const persons = new Map<string, string>();
  for (const { group } of promotion.requiredApprovals) {
    const approvals = promotion.approvals.filter(
      (approval) => approval.group === group && approval.decision === 'approve',
    );
    const approval = approvals[0];
    if (approval === undefined || approvals.length > 1) {
      problems.push(
        approval === undefined
          ? `no recorded approval of group ${group}`
          : `group ${group} has several approvals`,
      );
      continue;
    }
    if (approval.person === promotion.requestedByPerson) {
      problems.push(`group ${group} was approved by the requester ${approval.person}`);
    }
    if (!groups.isMember(approval.principal, group)) {
      problems.push(`${approval.principal} is not a member of group ${group}`);
    }
    const earlier = persons.get(approval.person);
    if (earlier !== undefined) {
      problems.push(`${approval.person} approved both ${earlier} and ${group}`);
    }
    persons.set(approval.person, group);
  }
  return problems;
}

const stageRank = { PENDING: 0, IN_PROGRESS: 1, SUCCEEDED: 2, FAILED: 2, SKIPPED: 2 } as const;
type StageStatus = keyof typeof stageRank;

/** The promotion with one stage moved forward (a stage that already ended, or is further on, stays). */
function withStage(
  promotion: PromotionRecord,
  name: PromotionStageName,
  status: StageStatus,
  at: string,
  message?: string,
): PromotionRecord {
  return {
    ...promotion,
    stages: promotion.stages.map((stage) =>
      stage.name === name && stageRank[status] > stageRank[stage.status]
        ? { name, status, at, ...(message === undefined ? {} : { message }) }
        : stage,
    ),
  };
}

/** Stages that never ran because the promotion ended: PENDING → SKIPPED. */
function skipPending(promotion: PromotionRecord, at: string): PromotionRecord {
  return {
    ...promotion,
    stages: promotion.stages.map((stage) =>
      stage.status === 'PENDING' ? { name: stage.name, status: 'SKIPPED' as const, at } : stage,
    ),
  };
}

function unchanged(promotion: PromotionRecord, actions: readonly PromotionAction[] = []): Transition {
  return { ok: true, promotion, changed: false, actions };
}

function refuse(kind: Refusal['kind'], code: string, message: string): Transition {
  return { ok: false, refusal: { kind, code, message } };
}

function changed(promotion: PromotionRecord, at: string, actions: readonly PromotionAction[]): Transition {
  return { ok: true, promotion: { ...promotion, updatedAt: at }, changed: true, actions };
}

/** The next state of a promotion after an event. */
export function transition(promotion: PromotionRecord, event: PromotionEvent): Transition {
  switch (event.type) {
    case 'decide':
      return decide(promotion, event);
    case 'expire':
      return expire(promotion, event.at);
    case 'stage': {
      if (!isOpen(promotion.status)) return unchanged(promotion);
      const next = withStage(promotion, event.stage, event.status, event.at, event.message);
      const moved = next.stages.some((stage, index) => stage !== promotion.stages[index]);
      return moved ? changed(next, event.at, []) : unchanged(promotion);
    }
    case 'deployed': {
      // Only a promotion whose approvals are complete deploys; anything else is a late or forged event.
      if (promotion.status !== 'DEPLOYING') return unchanged(promotion);
      const next = withStage({ ...promotion, status: 'DEPLOYED' }, 'Deploy', 'SUCCEEDED', event.at);
      return changed(withStage(next, 'Guard', 'SUCCEEDED', event.at), event.at, [
        audit(promotion, 'promotion.deployed', 'deployed', 'pipeline', { version: promotion.version }),
      ]);
    }
    case 'failed': {
      if (!isOpen(promotion.status)) return unchanged(promotion);
      const next = withStage(
        { ...promotion, status: 'FAILED', error: event.error },
        event.stage,
        'FAILED',
        event.at,
        event.error.message,
      );
      return changed(skipPending(next, event.at), event.at, [
        audit(promotion, 'promotion.failed', 'failed', 'pipeline', {
          stage: event.stage,
          error: event.error,
        }),
      ]);
    }
    case 'pipeline-ended':
      return pipelineEnded(promotion, event.state, event.at);
  }
}

function audit(
  promotion: PromotionRecord,
  action: PromotionAuditAction,
  key: string,
  actor: string,
  details: Readonly<Record<string, unknown>>,
): PromotionAction {
  return {
    type: 'audit',
    action,
    key,
    actor,
    details: {
      promotionId: promotion.id,
      version: promotion.version,
      env: promotion.env,
      cell: promotion.cell,
      ...details,
    },
  };
}

function expire(promotion: PromotionRecord, at: string): Transition {
  if (!expiryDue(promotion, at)) return unchanged(promotion);
  const next = withStage(
    { ...promotion, status: 'EXPIRED' },
    'Approve',
    'FAILED',
    at,
    `no decision before ${promotion.expiresAt ?? at}: the approvals timed out`,
  );
  return changed(skipPending(next, at), at, [
    audit(promotion, 'promotion.expired', 'expired', 'pipeline', { pendingGroups: pendingGroups(promotion) }),
  ]);
}

function pipelineEnded(promotion: PromotionRecord, state: PipelineEndState, at: string): Transition {
  // The Deploy stage records DEPLOYED itself before it reports success, so a successful execution changes
  // nothing; an execution that ended otherwise ends the promotion if it has not ended yet.
  if (state === 'SUCCEEDED' || !isOpen(promotion.status)) return unchanged(promotion);
  if (expiryDue(promotion, at)) return expire(promotion, at);
  const message = `the pipeline execution ended ${state}`;
  // What was running stopped with the execution; an approval never given failed with it.
  const stopped = (name: PromotionStageName, status: StageStatus) =>
    status === 'IN_PROGRESS' || (name === 'Approve' && status === 'PENDING');
  const next: PromotionRecord = {
    ...promotion,
    status: 'FAILED',
    error: { code: `PIPELINE_${state}`, message },
    stages: promotion.stages.map((stage) =>
      stopped(stage.name, stage.status)
        ? { name: stage.name, status: 'FAILED' as const, at, message }
        : stage,
    ),
  };
  return changed(skipPending(next, at), at, [
    audit(promotion, 'promotion.failed', 'failed', 'pipeline', { error: next.error }),
  ]);
}

function decide(promotion: PromotionRecord, event: DecisionEvent): Transition {
  const { caller } = event;
  if (!isOpen(promotion.status)) {
    return refuse(
      'conflict',
      'PROMOTION_ENDED',
      `Promotion ${promotion.id} ended ${promotion.status}; it takes no more decisions.`,
    );
  }
  if (caller.person === promotion.requestedByPerson) {
    return refuse(
      'forbidden',
      'SELF_APPROVAL',
      `${caller.person} requested promotion ${promotion.id} and cannot decide on it; another member of ${promotion.requiredApprovals.map((r) => r.group).join(' or ')} must.`,
    );
  }
  const required = promotion.requiredApprovals.map((r) => r.group);
  if (event.group !== undefined && !required.includes(event.group)) {
    return refuse(
      'unprocessable',
      'APPROVAL_GROUP_NOT_REQUIRED',
      `Promotion ${promotion.id} to ${promotion.env} needs ${required.length === 0 ? 'no approvals' : `approvals of ${required.join(', ')}`}, not of ${event.group}.`,
    );
  }
  // A repeat of a decision already recorded (a retried request) changes nothing, but the pipeline is
  // synced again: the first attempt may have stopped between the record and the pipeline.
  const own = promotion.approvals.find(
    (approval) =>
      approval.person === caller.person &&
      approval.decision === event.decision &&
      (event.group === undefined || approval.group === event.group),
  );
  if (own !== undefined && event.decision === 'approve') {
    return unchanged(promotion, [{ type: 'sync-pipeline' }]);
  }
  if (promotion.status !== 'AWAITING_APPROVAL') {
    return refuse(
      'conflict',
      'PROMOTION_NOT_AWAITING_APPROVAL',
      `Promotion ${promotion.id} is ${promotion.status}: its approvals are complete.`,
    );
  }
  if (expiryDue(promotion, event.at)) {
    return refuse(
      'conflict',
      'PROMOTION_ENDED',
      `Promotion ${promotion.id} expired at ${promotion.expiresAt ?? event.at}; it takes no more decisions.`,
    );
  }
  return event.decision === 'approve' ? approve(promotion, event) : reject(promotion, event);
}

function approve(promotion: PromotionRecord, event: DecisionEvent): Transition {
  const { caller } = event;
  const pending = pendingGroups(promotion);
  const member = new Set(event.callerGroups);
  let group = event.group;
  if (group === undefined) {
    const candidates = pending.filter((g) => member.has(g));
    if (candidates.length > 1) {
      return refuse(
        'invalid',
        'APPROVAL_GROUP_AMBIGUOUS',
        `${caller.person} is a member of ${candidates.join(' and ')}, which both still need an approval; say which one with group (a person counts for one group only).`,
      );
    }
    group = candidates[0];
    if (group === undefined) {
      const done = promotion.requiredApprovals.map((r) => r.group).filter((g) => member.has(g));
      return done.length > 0
        ? refuse(
            'conflict',
            'APPROVAL_GROUP_ALREADY_APPROVED',
            `Group ${done.join(', ')} already approved promotion ${promotion.id}; it waits for ${pending.join(', ')}.`,
          )
        : refuse(
            'forbidden',
            'APPROVAL_GROUP_FORBIDDEN',
            `${caller.principal} is a member of none of the groups promotion ${promotion.id} waits for (${pending.join(', ')}).`,
          );
    }
  }
  if (!member.has(group)) {
    return refuse(
      'forbidden',
      'APPROVAL_GROUP_FORBIDDEN',
      `${caller.principal} is not a member of group ${group}.`,
    );
  }
  if (!pending.includes(group)) {
    return refuse(
      'conflict',
      'APPROVAL_GROUP_ALREADY_APPROVED',
      `Group ${group} already approved promotion ${promotion.id}${pending.length === 0 ? '' : `; it waits for ${pending.join(', ')}`}.`,
    );
  }
  const counted = promotion.approvals.find(
    (approval) => approval.person === caller.person && approval.decision === 'approve',
  );
  if (counted !== undefined) {
    return refuse(
      'conflict',
      'APPROVER_ALREADY_COUNTED',
      `${caller.person} already approved promotion ${promotion.id} for group ${counted.group}; one person counts for one group only, so another member of ${group} must approve.`,
    );
  }
  const approval: Approval = {
    group,
    decision: 'approve',
    principal: caller.principal,
    person: caller.person,
    ...(event.comment === undefined ? {} : { comment: event.comment }),
    at: event.at,
  };
  let next: PromotionRecord = { ...promotion, approvals: [...promotion.approvals, approval] };
  const stillPending = pendingGroups(next);
  if (stillPending.length === 0) {
    next = withStage({ ...next, status: 'DEPLOYING' }, 'Approve', 'SUCCEEDED', event.at);
  }
  return changed(next, event.at, [
    { type: 'sync-pipeline' },
    { type: 'publish', detailType: 'Promotion Approved', group, person: caller.person },
    audit(promotion, 'promotion.approved', `approved:${group}`, caller.principal, {
      group,
      person: caller.person,
      pendingGroups: stillPending,
      ...(event.comment === undefined ? {} : { comment: event.comment }),
    }),
  ]);
}

function reject(promotion: PromotionRecord, event: DecisionEvent): Transition {
  const { caller } = event;
  const required = promotion.requiredApprovals.map((r) => r.group);
  const member = new Set(event.callerGroups);
  const group = event.group ?? required.find((g) => member.has(g));
  if (group === undefined || !member.has(group)) {
    return refuse(
      'forbidden',
      'APPROVAL_GROUP_FORBIDDEN',
      group === undefined
        ? `${caller.principal} is a member of none of the groups promotion ${promotion.id} needs (${required.join(', ')}).`
        : `${caller.principal} is not a member of group ${group}.`,
    );
  }
  const rejection: Approval = {
    group,
    decision: 'reject',
    principal: caller.principal,
    person: caller.person,
    ...(event.comment === undefined ? {} : { comment: event.comment }),
    at: event.at,
  };
  const next = withStage(
    { ...promotion, status: 'REJECTED', approvals: [...promotion.approvals, rejection] },
    'Approve',
    'FAILED',
    event.at,
    `rejected by ${caller.person} (${group})`,
  );
  return changed(skipPending(next, event.at), event.at, [
    { type: 'sync-pipeline' },
    { type: 'publish', detailType: 'Promotion Rejected', group, person: caller.person },
    audit(promotion, 'promotion.rejected', `rejected:${group}`, caller.principal, {
      group,
      person: caller.person,
      ...(event.comment === undefined ? {} : { comment: event.comment }),
    }),
  ]);
}
