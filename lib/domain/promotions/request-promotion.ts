import { randomUUID } from 'node:crypto';
import type {
  DeploymentRecord,
  DeploymentRepository,
  PromotionRecord,
} from '../../ports/deployment-store.js';
import type { RunRepository } from '../../ports/run-store.js';
import type { CheckDeployable, DeployTarget, DeployVersion } from '../deployments/deploy.js';
import { UnprocessableError } from '../errors.js';
import type { Environments } from './environments.js';

export interface PromotionDependencies {
  readonly environments: Environments;
  readonly checkDeployable: CheckDeployable;
  readonly deployVersion: DeployVersion;
  readonly deployments: DeploymentRepository;
  readonly runs: Pick<RunRepository, 'claimIdempotencyKey'>;
  readonly clock: () => Date;
  readonly ids?: () => string;
}

export interface PromotionRequest extends DeployTarget {
  readonly requestedBy: { readonly principal: string; readonly person: string };
  readonly override?: { readonly reason: string } | undefined;
  readonly idempotencyKey?: string | undefined;
}

const idempotencyTtlSeconds = 24 * 3600;

/**
 * `POST /v1/promotions`. Validates first (environment, version, cell, Stores) and records nothing when
 * refused; an environment without approvals deploys at once. Environments with approvals answer
 * PROMOTION_ENV_NOT_ENABLED until the approval flow exists (issue 10).
 */
export function makeRequestPromotion(deps: PromotionDependencies) {
  const ids = deps.ids ?? randomUUID;
  return async function requestPromotion(request: PromotionRequest): Promise<PromotionRecord> {
    const env = deps.environments.get(request.env);
    if (env === undefined) {
      throw new UnprocessableError(
        'PROMOTION_ENV_UNKNOWN',
        `No environment ${request.env}; the environments are ${deps.environments.names().join(', ')}.`,
      );
    }
    if (env.approvals.length > 0) {
      throw new UnprocessableError(
        'PROMOTION_ENV_NOT_ENABLED',
        `Promotion to ${env.name} needs approvals (${env.approvals.join(', ')}), which this release does not run yet; only environments without approvals deploy.`,
      );
    }
    const deployable = await deps.checkDeployable(request);
    let id = ids();
    if (request.idempotencyKey !== undefined) {
      const earlier = await deps.runs.claimIdempotencyKey(
        'promotions',
        request.idempotencyKey,
        id,
        idempotencyTtlSeconds,
      );
      if (earlier !== undefined) {
        const existing = await deps.deployments.getPromotion(earlier);
        if (existing !== undefined) return existing;
        // The first request claimed the key and stopped before recording: finish it under its id.
        id = earlier;
      }
    }
    const now = deps.clock().toISOString();
    const requested: PromotionRecord = {
      id,
      namespace: request.namespace,
      name: request.name,
      version: request.version,
      digest: deployable.version.digest,
      env: request.env,
      cell: request.cell,
      status: 'DEPLOYING',
      requestedBy: request.requestedBy.principal,
      requestedByPerson: request.requestedBy.person,
      requiredApprovals: [],
      approvals: [],
      stages: [
        { name: 'Validate', status: 'SUCCEEDED', at: now },
        { name: 'Deploy', status: 'IN_PROGRESS', at: now },
      ],
      warnings: [...deployable.warnings],
      createdAt: now,
      updatedAt: now,
      revision: 0,
      ...(request.override === undefined ? {} : { override: request.override }),
    };
    const stored = await deps.deployments.putPromotion(requested, 0);
    let deployment: DeploymentRecord;
    try {
      deployment = await deps.deployVersion(deployable, id);
    } catch (error) {
      const at = deps.clock().toISOString();
      const message = error instanceof Error ? error.message : String(error);
      const code = error instanceof UnprocessableError ? error.code : 'DEPLOY_FAILED';
      await deps.deployments.putPromotion(
        {
          ...stored,
          status: 'FAILED',
          stages: [
            stored.stages[0] ?? { name: 'Validate', status: 'SUCCEEDED' },
            { name: 'Deploy', status: 'FAILED', at, message },
          ],
          error: { code, message },
          updatedAt: at,
        },
        stored.revision,
      );
      throw error;
    }
    return deps.deployments.putPromotion(
      {
        ...stored,
        status: 'DEPLOYED',
        stages: [
          stored.stages[0] ?? { name: 'Validate', status: 'SUCCEEDED' },
          { name: 'Deploy', status: 'SUCCEEDED', at: deployment.deployedAt },
        ],
        updatedAt: deployment.deployedAt,
      },
      stored.revision,
    );
  };
}

export type RequestPromotion = ReturnType<typeof makeRequestPromotion>;
