import type { AuditLog } from '../../ports/audit-log.js';
import type { PromotionRecord, PromotionRepository } from '../../ports/deployment-store.js';
import type { DomainEvent, EventPublisher } from '../../ports/event-publisher.js';
import type { PromotionPipeline } from '../../ports/promotion-pipeline.js';
import {
  ConcurrentModificationError,
  ConflictError,
  DependencyUnavailableError,
  ForbiddenError,
  NotFoundError,
  UnprocessableError,
  ValidationError,
} from '../errors.js';
import {
  type PromotionAction,
  type PromotionEvent,
  pendingGroups,
  type Refusal,
  transition,
} from './promotion-state.js';

export interface ApplyEventDependencies {
  readonly promotions: PromotionRepository;
  readonly pipeline: PromotionPipeline;
  readonly events: EventPublisher;
  readonly audit: AuditLog;
}

/** Attempts before a promotion that keeps changing under a writer gives up (409, safe to retry). */
const maxAttempts = 10;

/** The error a refusal of the approval rules answers with. */
export function refusalError(refusal: Refusal): Error {
  switch (refusal.kind) {
    case 'forbidden':
      return new ForbiddenError(refusal.code, refusal.message);
    case 'conflict':
      return new ConflictError(refusal.code, refusal.message);
    case 'invalid':
      return new ValidationError(refusal.code, refusal.message, {
        problems: [{ code: refusal.code, path: 'body.group', message: refusal.message }],
      });
    case 'unprocessable':
      return new UnprocessableError(refusal.code, refusal.message);
  }
}

export function promotionNotFound(id: string): NotFoundError {
  return new NotFoundError('PROMOTION_NOT_FOUND', `No promotion ${id}.`);
}

/** The identity every promotion event carries. */
export function promotionDetail(promotion: PromotionRecord) {
  return {
    promotionId: promotion.id,
    namespace: promotion.namespace,
    name: promotion.name,
    version: promotion.version,
    env: promotion.env,
    cell: promotion.cell,
  };
}

/**
 * Applies an event to a stored promotion: the reducer decides, the record is written only if its revision
 * is still the one read (a concurrent writer makes this read again and decide anew), then the effects run.
 * A refusal throws its typed error and writes nothing.
 */
export function makeApplyPromotionEvent(deps: ApplyEventDependencies) {
  return async function applyPromotionEvent(
    id: string,
    eventOf: (promotion: PromotionRecord) => PromotionEvent,
  ): Promise<PromotionRecord> {
    for (let attempt = 0; ; attempt++) {
      const current = await deps.promotions.getPromotion(id);
      if (current === undefined) throw promotionNotFound(id);
      const result = transition(current, eventOf(current));
      if (!result.ok) throw refusalError(result.refusal);
      let stored = current;
      if (result.changed) {
        try {
          stored = await deps.promotions.putPromotion(result.promotion, current.revision);
        } catch (error) {
          if (error instanceof ConcurrentModificationError && attempt + 1 < maxAttempts) continue;
          throw error;
        }
      }
      await carryOut(deps, stored, result.actions);
      return stored;
    }
  };
}

export type ApplyPromotionEvent = ReturnType<typeof makeApplyPromotionEvent>;

async function carryOut(
  deps: ApplyEventDependencies,
  promotion: PromotionRecord,
  actions: readonly PromotionAction[],
): Promise<void> {
  const published: DomainEvent[] = [];
  for (const action of actions) {
    switch (action.type) {
      case 'audit':
        await deps.audit.append({
          id: `${promotion.id}:${action.key}`,
          at: promotion.updatedAt,
          action: action.action,
          subject: `package:${promotion.namespace}/${promotion.name}`,
          actor: action.actor,
          details: action.details,
        });
        break;
      case 'publish':
        published.push({
          detailType: action.detailType,
          detail:
            action.detailType === 'Promotion Approved'
              ? {
                  ...promotionDetail(promotion),
                  group: action.group,
                  approvedBy: action.person,
                  pendingGroups: pendingGroups(promotion),
                }
              : { ...promotionDetail(promotion), group: action.group, rejectedBy: action.person },
        });
        break;
      case 'sync-pipeline':
        break;
    }
  }
  if (published.length > 0) await deps.events.publish(published);
  // The pipeline last: everything about the decision is recorded before it can move on.
  if (actions.some((action) => action.type === 'sync-pipeline')) {
    try {
      await deps.pipeline.syncDecisions(promotion);
    } catch (error) {
      throw new DependencyUnavailableError(
        'PIPELINE_UNAVAILABLE',
        `The decision on promotion ${promotion.id} is recorded, but the pipeline did not take it; send the same request again.`,
        { cause: error },
      );
    }
  }
}
