import { type PromotionStageName, promotionStageNames } from '../../contracts/api/promotions.js';
import { approvalActionPrefix } from '../../contracts/promotion-pipeline.js';
import type { ListPromotionsQuery, PromotionRecord } from '../../ports/deployment-store.js';
import type { Page } from '../../ports/package-repository.js';
import { makeApplyPromotionEvent, promotionNotFound } from './apply-event.js';
import type { DecisionRequest, PromotionsDependencies } from './model.js';
import { makePromotionStages } from './promotion-stages.js';
import { expiryDue, type PipelineEndState, type PromotionEvent } from './promotion-state.js';
import { makeRequestPromotion } from './request-promotion.js';

/** A CodePipeline state change of a promotion pipeline, as the event handler reads it. */
export interface PipelineStateChange {
  readonly level: 'pipeline' | 'stage' | 'action';
  readonly executionId: string;
  readonly state: string;
  readonly stage?: string | undefined;
  readonly action?: string | undefined;
  readonly at: string;
}

const stageNames: readonly PromotionStageName[] = promotionStageNames;
const endStates: readonly PipelineEndState[] = ['SUCCEEDED', 'FAILED', 'CANCELED', 'STOPPED', 'SUPERSEDED'];

const isStageName = (name: string): name is PromotionStageName => stageNames.some((known) => known === name);
const isEndState = (state: string): state is PipelineEndState => endStates.some((known) => known === state);

/** The reducer event of a pipeline state change, if it means anything to the promotion. */
export function eventOfStateChange(change: PipelineStateChange): PromotionEvent | undefined {
  const { state, stage } = change;
  if (change.level === 'pipeline') {
    return isEndState(state) ? { type: 'pipeline-ended', at: change.at, state } : undefined;
  }
  if (change.level === 'stage' && stage !== undefined && isStageName(stage)) {
    const status =
      state === 'STARTED'
        ? 'IN_PROGRESS'
        : state === 'SUCCEEDED'
          ? 'SUCCEEDED'
          : state === 'FAILED' || state === 'CANCELED' || state === 'STOPPED'
            ? 'FAILED'
            : undefined;
    if (status === undefined) return undefined;
    return {
      type: 'stage',
      stage,
      status,
      at: change.at,
      ...(status === 'FAILED' ? { message: `the ${stage} stage ended ${state}` } : {}),
    };
  }
  return undefined;
}

/**
 * Promotions (ADR "Promotion approvals"): requests and rollbacks, decisions, reads that settle expired
 * approvals, the pipeline stages and the handling of CodePipeline's state changes — one set of use cases
 * for the promotions API, the `promotion-stages` and `promotion-events` functions and the embedded mode.
 */
export function makePromotions(deps: PromotionsDependencies) {
  const stages = makePromotionStages(deps);
  const { request, rollback } = makeRequestPromotion(deps, stages);
  const apply = makeApplyPromotionEvent(deps);
  const now = () => deps.clock().toISOString();

  /** The promotion with its approval timeout applied, if it passed (checked on every read). */
  async function settle(promotion: PromotionRecord): Promise<PromotionRecord> {
    const at = now();
    return expiryDue(promotion, at) ? apply(promotion.id, () => ({ type: 'expire', at })) : promotion;
  }

  async function get(id: string): Promise<PromotionRecord> {
    const promotion = await deps.promotions.getPromotion(id);
    if (promotion === undefined) throw promotionNotFound(id);
    return settle(promotion);
  }

  async function list(query: ListPromotionsQuery): Promise<Page<PromotionRecord>> {
    const page = await deps.promotions.listPromotions(query);
    const items = await Promise.all(page.items.map(settle));
    // A promotion that expired while read no longer has the status the list asked for.
    const kept = query.status === undefined ? items : items.filter((item) => item.status === query.status);
    return page.nextCursor === undefined ? { items: kept } : { items: kept, nextCursor: page.nextCursor };
  }

  /** `POST /v1/promotions/{id}/approvals`: the approval rules decide, the pipeline gets the decision. */
  async function decide(decision: DecisionRequest): Promise<PromotionRecord> {
    await get(decision.promotionId);
    const callerGroups = deps.groups.groupsOf(decision.caller.principal);
    return apply(decision.promotionId, () => ({
      type: 'decide',
      decision: decision.decision,
      at: now(),
      caller: decision.caller,
      callerGroups,
      group: decision.group,
      comment: decision.comment,
    }));
  }

  /** Expires every promotion of a page whose approvals timed out (the embedded mode's timer). */
  async function expireDue(): Promise<number> {
    let expired = 0;
    let cursor: string | undefined;
    do {
      const page = await deps.promotions.listPromotions({ status: 'AWAITING_APPROVAL', limit: 100, cursor });
      for (const promotion of page.items) {
        if ((await settle(promotion)).status === 'EXPIRED') expired++;
      }
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return expired;
  }

  /**
   * A CodePipeline state change: moves the promotion of that execution forward (a late or repeated event
   * changes nothing). An approval action that succeeded without a recorded approval of its group was
   * given in the console, around the rules: it is audited, and the Guard stage fails the execution.
   */
  async function onPipelineStateChange(change: PipelineStateChange): Promise<PromotionRecord | undefined> {
    const id = await deps.promotions.promotionOfExecution(change.executionId);
    if (id === undefined) return undefined;
    if (
      change.level === 'action' &&
      change.state === 'SUCCEEDED' &&
      change.action?.startsWith(approvalActionPrefix) === true
    ) {
      const group = change.action.slice(approvalActionPrefix.length);
      const promotion = await get(id);
      const recorded = promotion.approvals.some(
        (approval) => approval.group === group && approval.decision === 'approve',
      );
      if (!recorded) {
        await deps.audit.append({
          id: `${id}:console-approval:${group}`,
          at: change.at,
          action: 'promotion.console-approval',
          subject: `package:${promotion.namespace}/${promotion.name}`,
          actor: 'pipeline',
          details: { promotionId: id, group, executionId: change.executionId },
        });
      }
      return promotion;
    }
    const event = eventOfStateChange(change);
    if (event === undefined) return get(id);
    const promotion = await apply(id, () => event);
    // Decisions recorded before the execution reached its approvals are handed over now.
    if (event.type === 'stage' && event.stage === 'Approve' && event.status === 'IN_PROGRESS') {
      await deps.pipeline.syncDecisions(promotion);
    }
    return promotion;
  }

  return {
    request,
    rollback,
    decide,
    get,
    list,
    expireDue,
    onPipelineStateChange,
    stages,
  };
}

export type Promotions = ReturnType<typeof makePromotions>;
