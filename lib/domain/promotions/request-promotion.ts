import { randomUUID } from 'node:crypto';
import type { PromotionStageName } from '../../contracts/api/promotions.js';
import type { PromotionLockTarget, PromotionRecord } from '../../ports/deployment-store.js';
import { ConflictError, DependencyUnavailableError, NotFoundError, UnprocessableError } from '../errors.js';
import { makeApplyPromotionEvent, promotionDetail } from './apply-event.js';
import { checkPii, gateRequest, pathText } from './governance-gate.js';
import type { PromotionRequest, PromotionsDependencies, RollbackRequest } from './model.js';
import { orderViolation, type PromotionStages } from './promotion-stages.js';
import { isOpen } from './promotion-state.js';

const idempotencyTtlSeconds = 24 * 3600;

/**
 * A lock whose promotion record is missing is left by a request that stopped between the two writes, or
 * belongs to one still writing its record: only after this long is it taken over. An inline deploy (an
 * environment without approvals) still DEPLOYING after this long stopped half-way and is finished first.
 */
const orphanLockMs = 5 * 60_000;

/** Groups without members among `groups`: nobody could approve for them. */
function unapprovable(deps: PromotionsDependencies, env: string, groups: readonly string[]): void {
  const nobody = groups.filter((group) => !deps.groups.hasMembers(group));
  if (nobody.length === 0) return;
  throw new UnprocessableError(
    'PROMOTION_APPROVERS_MISSING',
    `Promotions to ${env} need approvals of ${groups.join(', ')}, but ${nobody.join(', ')} ${nobody.length === 1 ? 'has' : 'have'} no members: nobody could approve. Configure the groups (datakit:approverGroups in AWS, DATAKIT_GROUPS in embedded mode).`,
  );
}

interface Requested extends PromotionRequest {
  readonly rollback?: { readonly fromVersion: string } | undefined;
}

/**
 * `POST /v1/promotions` and `POST /v1/rollbacks` (ADR "Promotion approvals"). Validates first and records
 * nothing when it refuses: the environment, the version (registered cleanly), the Stores of its DataSets
 * in the cell, the dev → int → prod order (unless `override.reason`, audited, or a rollback), and one open
 * promotion per package × environment × cell. An environment without approvals deploys at once; the
 * others start their pipeline and wait for one approval per required group.
 */
export function makeRequestPromotion(deps: PromotionsDependencies, stages: PromotionStages) {
  const ids = deps.ids ?? randomUUID;
  const apply = makeApplyPromotionEvent(deps);

  async function takeLock(target: PromotionLockTarget, id: string, at: string): Promise<void> {
    for (;;) {
      const claim = await deps.promotions.claimPromotionLock(target, id, at);
      if (claim.claimed || claim.holder.promotionId === id) return;
      let holder = await deps.promotions.getPromotion(claim.holder.promotionId);
      if (
        holder?.status === 'DEPLOYING' &&
        holder.pipeline === undefined &&
        Date.parse(at) - Date.parse(holder.updatedAt) > orphanLockMs
      ) {
        // An inline deploy (no approvals) whose request stopped half-way: finish it (or fail it) first.
        holder = await stages
          .deploy(holder.id)
          .catch(() => deps.promotions.getPromotion(claim.holder.promotionId));
      }
      const orphan = holder === undefined && Date.parse(at) - Date.parse(claim.holder.at) > orphanLockMs;
      if ((holder !== undefined && isOpen(holder.status)) || (holder === undefined && !orphan)) {
        throw new ConflictError(
          'PROMOTION_ALREADY_OPEN',
          `Promotion ${claim.holder.promotionId} of ${target.namespace}/${target.name} to ${target.env} in cell ${target.cell} is ${holder?.status ?? 'being recorded'}; one promotion at a time: decide on it or wait for it to end.`,
          {
            problems: [
              {
                code: 'PROMOTION_ALREADY_OPEN',
                path: claim.holder.promotionId,
                message: holder?.status ?? 'being recorded',
              },
            ],
          },
        );
      }
      if (await deps.promotions.takeOverPromotionLock(target, id, at, claim.holder.revision)) return;
    }
  }

  /** Starts the pipeline of a recorded promotion awaiting approval, and remembers the execution. */
  async function startPipeline(promotion: PromotionRecord): Promise<PromotionRecord> {
    let execution: Awaited<ReturnType<typeof deps.pipeline.start>>;
    try {
      execution = await deps.pipeline.start(promotion);
    } catch (cause) {
      // The lock must not outlive a promotion nobody can approve: it ends FAILED, and the caller retries.
      await apply(promotion.id, () => ({
        type: 'failed',
        at: deps.clock().toISOString(),
        stage: 'Approve',
        error: {
          code: 'PIPELINE_START_FAILED',
          message: `The ${promotion.env} pipeline could not be started: ${cause instanceof Error ? cause.message : String(cause)}`,
        },
      }));
      throw new DependencyUnavailableError(
        'PIPELINE_UNAVAILABLE',
        `The ${promotion.env} pipeline did not start; promotion ${promotion.id} ended FAILED. Request it again.`,
        { cause },
      );
    }
    return stages.recordExecution(promotion.id, execution);
  }

  async function request(request: Requested): Promise<PromotionRecord> {
    const env = deps.environments.get(request.env);
    if (env === undefined) {
      throw new UnprocessableError(
        'PROMOTION_ENV_UNKNOWN',
        `No environment ${request.env}; the environments are ${deps.environments.names().join(', ')}.`,
      );
    }
    unapprovable(deps, env.name, env.approvals);
    const deployable = await deps.checkDeployable(request);
    const warnings: string[] = [];
    let orderOverridden = false;
    if (request.rollback === undefined) {
      const violation = await orderViolation(deps, request);
      if (violation !== undefined) {
        if (request.override === undefined) {
          throw new UnprocessableError(
            'PROMOTION_ORDER_VIOLATION',
            `${violation}; promote it there first, or give override.reason.`,
            { problems: [{ code: 'PROMOTION_ORDER_VIOLATION', path: 'body.env', message: violation }] },
          );
        }
        warnings.push(`PROMOTION_ORDER_OVERRIDDEN: ${violation}; override: ${request.override.reason}`);
        orderOverridden = true;
      }
    }
    // Last of the checks: it reads the whole registry and the lineage around the version.
    const gate = env.governed
      ? gateRequest({
          env,
          target: request,
          check: await checkPii(deps.piiCheck, request),
          override: request.governanceOverride,
          at: deps.clock().toISOString(),
        })
      : undefined;
    if (gate === undefined && request.governanceOverride !== undefined) {
      warnings.push(`GOVERNANCE_OVERRIDE_UNUSED: ${env.name} is not governed; nothing was checked`);
    }
    const approvals = gate?.approvals ?? env.approvals;
    unapprovable(deps, env.name, approvals);

    let id = ids();
    if (request.idempotencyKey !== undefined) {
      const earlier = await deps.idempotency.claimIdempotencyKey(
        request.rollback === undefined ? 'promotions' : 'rollbacks',
        request.idempotencyKey,
        id,
        idempotencyTtlSeconds,
      );
      if (earlier !== undefined) {
        const existing = await deps.promotions.getPromotion(earlier);
        if (existing !== undefined) {
          // The first request recorded it and stopped before its pipeline started (or, without
          // approvals, before its deploy ended): carry on from there.
          if (existing.pipeline !== undefined || !isOpen(existing.status)) return existing;
          return existing.status === 'AWAITING_APPROVAL'
            ? startPipeline(existing)
            : stages.deploy(existing.id);
        }
        // The first request claimed the key and stopped before recording: finish it under its id.
        id = earlier;
      }
    }

    const createdAt = deps.clock().toISOString();
    await takeLock(request, id, createdAt);
    const stage = (name: PromotionStageName, status: 'SUCCEEDED' | 'IN_PROGRESS' | 'PENDING') =>
      status === 'PENDING' ? { name, status } : { name, status, at: createdAt };
    const requested: PromotionRecord = {
      id,
      namespace: request.namespace,
      name: request.name,
      version: request.version,
      digest: deployable.version.digest,
      env: request.env,
      cell: request.cell,
      status: approvals.length === 0 ? 'DEPLOYING' : 'AWAITING_APPROVAL',
      requestedBy: request.requestedBy.principal,
      requestedByPerson: request.requestedBy.person,
      requiredApprovals: approvals.map((group) => ({ group })),
      approvals: [],
      stages:
        approvals.length === 0
          ? [stage('Validate', 'SUCCEEDED'), stage('Deploy', 'IN_PROGRESS')]
          : [
              stage('Validate', 'SUCCEEDED'),
              stage('Approve', 'IN_PROGRESS'),
              stage('Guard', 'PENDING'),
              stage('Deploy', 'PENDING'),
            ],
      // Deprecated inputs (governance), an overridden promotion order, the PII gate's findings.
      warnings: [...deployable.warnings, ...warnings, ...(gate?.warnings ?? [])],
      createdAt,
      updatedAt: createdAt,
      revision: 0,
      ...(request.override === undefined ? {} : { override: request.override }),
      ...(gate === undefined ? {} : { governance: gate.governance }),
      ...(request.rollback === undefined ? {} : { rollback: request.rollback }),
      ...(approvals.length === 0
        ? {}
        : {
            expiresAt: new Date(Date.parse(createdAt) + deps.approvalTimeoutMinutes * 60_000).toISOString(),
          }),
    };
    const stored = await deps.promotions.putPromotion(requested, 0);
    await audit(stored, orderOverridden);
    await deps.events.publish([
      {
        detailType: 'Promotion Requested',
        detail: {
          ...promotionDetail(stored),
          requestedBy: stored.requestedBy,
          requiredApprovals: approvals,
          rollback: stored.rollback !== undefined,
          override: stored.override !== undefined,
          ...(stored.expiresAt === undefined ? {} : { expiresAt: stored.expiresAt }),
          ...(stored.governance === undefined
            ? {}
            : {
                governance: {
                  violations: stored.governance.violations.map(pathText),
                  override: stored.governance.override !== undefined,
                },
              }),
        },
      },
    ]);
    if (approvals.length > 0) return startPipeline(stored);
    // A refusal is recorded on the promotion (FAILED with its code) and is the caller's answer too.
    return stages.deploy(id);
  }

  async function audit(promotion: PromotionRecord, overridden: boolean): Promise<void> {
    const entry = {
      at: promotion.createdAt,
      subject: `package:${promotion.namespace}/${promotion.name}`,
      actor: promotion.requestedBy,
    };
    const details = {
      promotionId: promotion.id,
      version: promotion.version,
      env: promotion.env,
      cell: promotion.cell,
      person: promotion.requestedByPerson,
      requiredApprovals: promotion.requiredApprovals.map((required) => required.group),
    };
    await deps.audit.append({
      ...entry,
      id: `${promotion.id}:requested`,
      action: promotion.rollback === undefined ? 'promotion.requested' : 'promotion.rollback',
      details: {
        ...details,
        ...(promotion.rollback === undefined ? {} : { fromVersion: promotion.rollback.fromVersion }),
      },
    });
    if (overridden && promotion.override !== undefined) {
      await deps.audit.append({
        ...entry,
        id: `${promotion.id}:override`,
        action: 'promotion.override',
        details: { ...details, reason: promotion.override.reason, warnings: promotion.warnings },
      });
    }
    const governance = promotion.governance;
    if (governance?.override !== undefined) {
      await deps.audit.append({
        ...entry,
        id: `${promotion.id}:governance-override`,
        action: 'promotion.governance-override',
        details: {
          ...details,
          reason: governance.override.reason,
          violations: governance.violations.map((violation) => ({
            dataset: `${violation.dataset.namespace}/${violation.dataset.name}`,
            ...(violation.classification === undefined ? {} : { classification: violation.classification }),
            path: pathText(violation),
          })),
        },
      });
    }
  }

  /**
   * `POST /v1/rollbacks`: a promotion of an earlier version of the deployment's history (by default the
   * one deployed before the current one) through the same gates, marked as a rollback and audited.
   */
  async function rollback(rollbackRequest: RollbackRequest): Promise<PromotionRecord> {
    const { namespace, name, env, cell } = rollbackRequest;
    const current = await deps.promotions.getDeployment(namespace, name, env, cell);
    if (current === undefined) {
      throw new NotFoundError(
        'DEPLOYMENT_NOT_FOUND',
        `${namespace}/${name} is not deployed in ${env} of cell ${cell}; there is nothing to roll back.`,
      );
    }
    const toVersion = rollbackRequest.toVersion ?? current.history[0]?.version;
    if (toVersion === undefined) {
      throw new UnprocessableError(
        'ROLLBACK_NO_PREVIOUS_VERSION',
        `${namespace}/${name} ${current.version} is the first version deployed in ${env} of cell ${cell}; there is no earlier one to go back to.`,
      );
    }
    if (toVersion === current.version) {
      throw new UnprocessableError(
        'ROLLBACK_SAME_VERSION',
        `${namespace}/${name} ${toVersion} is already the version deployed in ${env} of cell ${cell}.`,
        { problems: [{ code: 'ROLLBACK_SAME_VERSION', path: 'body.toVersion', message: toVersion }] },
      );
    }
    if (!current.history.some((entry) => entry.version === toVersion)) {
      throw new UnprocessableError(
        'ROLLBACK_VERSION_NOT_IN_HISTORY',
        `${namespace}/${name} ${toVersion} was not deployed in ${env} of cell ${cell} before (its history: ${current.history.map((entry) => entry.version).join(', ')}); promote it instead.`,
        {
          problems: [{ code: 'ROLLBACK_VERSION_NOT_IN_HISTORY', path: 'body.toVersion', message: toVersion }],
        },
      );
    }
    return request({
      namespace,
      name,
      env,
      cell,
      version: toVersion,
      requestedBy: rollbackRequest.requestedBy,
      idempotencyKey: rollbackRequest.idempotencyKey,
      governanceOverride: rollbackRequest.governanceOverride,
      rollback: { fromVersion: current.version },
    });
  }

  return { request, rollback };
}
