import type { PromotionStageName } from '../../contracts/api/promotions.js';
import type { PipelineStep } from '../../contracts/promotion-pipeline.js';
import type { PromotionRecord } from '../../ports/deployment-store.js';
import type { PipelineExecution } from '../../ports/promotion-pipeline.js';
import type { DeployableVersion } from '../deployments/deploy.js';
import { ConflictError, DataKitError, UnprocessableError } from '../errors.js';
import { type ApplyPromotionEvent, makeApplyPromotionEvent, promotionNotFound } from './apply-event.js';
import { checkPii, governanceGuardProblems, newViolationsRefusal } from './governance-gate.js';
import type { PromotionsDependencies } from './model.js';
import { guardProblems, isOpen } from './promotion-state.js';

/**
 * Why a version may not enter an environment yet: the dev → int → prod order, unless overridden or a
 * rollback (whose version was deployed there before). `undefined` when the order holds.
 */
export async function orderViolation(
  deps: Pick<PromotionsDependencies, 'environments' | 'promotions'>,
  target: {
    readonly namespace: string;
    readonly name: string;
    readonly version: string;
    readonly env: string;
    readonly cell: string;
  },
): Promise<string | undefined> {
  const previous = deps.environments.previous(target.env);
  if (previous === undefined) return undefined;
  const deployed = await deps.promotions.getDeployment(
    target.namespace,
    target.name,
    previous.name,
    target.cell,
  );
  if (deployed?.version === target.version) return undefined;
  return `${target.namespace}/${target.name} ${target.version} is not deployed in ${previous.name} of cell ${target.cell}${
    deployed === undefined ? '' : ` (${previous.name} runs ${deployed.version})`
  }`;
}

/** The code and message of a stage failure, from a refusal or an unexpected error. */
function failureOf(error: unknown, fallback: string): { code: string; message: string } {
  if (error instanceof DataKitError) return { code: error.code, message: error.message };
  return { code: fallback, message: error instanceof Error ? error.message : String(error) };
}

/**
 * The stages of a promotion after its request (ADR "Promotion approvals"), the same use cases behind the
 * CodePipeline Lambda actions (`promotion-stages`) and the embedded in-process pipeline: Validate
 * re-checks what the request checked, at pipeline time; Guard re-checks the recorded approvals; Deploy
 * re-checks them again and commits the deployment. A stage that refuses records FAILED and throws.
 */
export function makePromotionStages(deps: PromotionsDependencies) {
  const apply: ApplyPromotionEvent = makeApplyPromotionEvent(deps);
  const now = () => deps.clock().toISOString();

  async function load(id: string): Promise<PromotionRecord> {
    const promotion = await deps.promotions.getPromotion(id);
    if (promotion === undefined) throw promotionNotFound(id);
    return promotion;
  }

  async function fail(
    id: string,
    stage: PromotionStageName,
    error: unknown,
    fallback: string,
  ): Promise<never> {
    await apply(id, () => ({ type: 'failed', at: now(), stage, error: failureOf(error, fallback) }));
    throw error;
  }

  /** Records which execution runs a promotion (from the API after a start, and from Validate's job). */
  async function recordExecution(id: string, execution: PipelineExecution): Promise<PromotionRecord> {
    await deps.promotions.recordPipelineExecution(execution.executionId, id);
    for (;;) {
      const promotion = await load(id);
      if (promotion.pipeline?.executionId === execution.executionId) return promotion;
      try {
        return await deps.promotions.putPromotion(
          { ...promotion, pipeline: { name: execution.name, executionId: execution.executionId } },
          promotion.revision,
        );
      } catch (error) {
        if (!(error instanceof DataKitError && error.code === 'CONCURRENT_MODIFICATION')) throw error;
      }
    }
  }

  async function validate(id: string, execution?: PipelineExecution): Promise<PromotionRecord> {
    let promotion = execution === undefined ? await load(id) : await recordExecution(id, execution);
    if (!isOpen(promotion.status)) {
      throw new ConflictError('PROMOTION_ENDED', `Promotion ${id} ended ${promotion.status}.`);
    }
    try {
      await deps.checkDeployable(promotion);
      if (promotion.rollback === undefined && promotion.override === undefined) {
        const violation = await orderViolation(deps, promotion);
        if (violation !== undefined) {
          throw new UnprocessableError(
            'PROMOTION_ORDER_VIOLATION',
            `${violation} (checked again when the pipeline ran).`,
          );
        }
      }
    } catch (error) {
      return fail(id, 'Validate', error, 'VALIDATE_FAILED');
    }
    promotion = await apply(id, () => ({ type: 'stage', stage: 'Validate', status: 'SUCCEEDED', at: now() }));
    return promotion;
  }

  /**
   * Guard: the recorded approvals satisfy the rules (an approval given in the console is not recorded, so
   * its group is missing), the groups the environment and a governance override need are among them, and in
   * a governed environment the PII gate finds nothing the promotion did not record when it was requested.
   */
  async function guard(id: string): Promise<PromotionRecord> {
    const promotion = await load(id);
    const env = deps.environments.get(promotion.env);
    let check: Awaited<ReturnType<typeof checkPii>> | undefined;
    if (env?.governed === true) {
      try {
        check = await checkPii(deps.piiCheck, promotion);
      } catch (error) {
        // Fails closed: without the check nothing deploys; the requester asks again.
        return fail(id, 'Guard', error, 'GOVERNANCE_CHECK_UNAVAILABLE');
      }
    }
    const governance =
      env === undefined
        ? { approvals: [`no environment ${promotion.env}`], violations: [] }
        : governanceGuardProblems(env, promotion, check);
    const problems = [...guardProblems(promotion, deps.groups), ...governance.approvals];
    if (problems.length === 0 && governance.violations.length > 0) {
      return fail(id, 'Guard', newViolationsRefusal(promotion, governance.violations), 'GOVERNANCE_PII_FLOW');
    }
    if (problems.length > 0) {
      return fail(
        id,
        'Guard',
        new UnprocessableError(
          'GUARD_REFUSED',
          `The recorded approvals of promotion ${id} do not allow a deploy: ${problems.join('; ')}.`,
          { problems: problems.map((message) => ({ code: 'GUARD_REFUSED', message })) },
        ),
        'GUARD_REFUSED',
      );
    }
    return apply(id, () => ({ type: 'stage', stage: 'Guard', status: 'SUCCEEDED', at: now() }));
  }

  async function deploy(id: string): Promise<PromotionRecord> {
    const promotion = await load(id);
    if (promotion.status === 'DEPLOYED') return promotion;
    const env = deps.environments.get(promotion.env);
    const problems = [
      ...guardProblems(promotion, deps.groups),
      ...(env === undefined
        ? [`no environment ${promotion.env}`]
        : governanceGuardProblems(env, promotion, undefined).approvals),
    ];
    if (problems.length > 0) {
      return fail(
        id,
        'Deploy',
        new UnprocessableError('GUARD_REFUSED', `Promotion ${id} may not deploy: ${problems.join('; ')}.`, {
          problems: problems.map((message) => ({ code: 'GUARD_REFUSED', message })),
        }),
        'GUARD_REFUSED',
      );
    }
    const current = await deps.promotions.getDeployment(
      promotion.namespace,
      promotion.name,
      promotion.env,
      promotion.cell,
    );
    // A retried Deploy after the commit: the deployment is there, only the record is behind.
    if (current?.promotionId !== id) {
      let deployable: DeployableVersion;
      try {
        deployable = await deps.checkDeployable(promotion);
        await deps.deployVersion(deployable, id);
      } catch (error) {
        return fail(id, 'Deploy', error, 'DEPLOY_FAILED');
      }
    }
    return apply(id, () => ({ type: 'deployed', at: now() }));
  }

  /** One stage as the pipeline's Lambda actions name it. */
  async function run(
    step: PipelineStep,
    id: string,
    execution?: PipelineExecution,
  ): Promise<PromotionRecord> {
    switch (step) {
      case 'validate':
        return validate(id, execution);
      case 'guard':
        return guard(id);
      case 'deploy':
        return deploy(id);
    }
  }

  return { validate, guard, deploy, run, recordExecution };
}

export type PromotionStages = ReturnType<typeof makePromotionStages>;
