import type { RunRepository } from '../../ports/run-store.js';
import type { CheckDeployable, DeployTarget, DeployVersion } from '../deployments/deploy.js';
import type { PiiCheck } from '../governance/pii-gate.js';
import type { GroupDirectory } from '../identity/groups.js';
import type { Caller } from '../identity/principal.js';
import type { ApplyEventDependencies } from './apply-event.js';
import type { Environments } from './environments.js';

/** What the promotion use cases are built from (ADR "Promotion approvals"). */
export interface PromotionsDependencies extends ApplyEventDependencies {
  readonly environments: Environments;
  readonly groups: GroupDirectory;
  readonly checkDeployable: CheckDeployable;
  /** The PII gate of governed environments: reads the registry and lineage (ADR "PII gate at promotion"). */
  readonly piiCheck: PiiCheck;
  readonly deployVersion: DeployVersion;
  readonly idempotency: Pick<RunRepository, 'claimIdempotencyKey'>;
  readonly clock: () => Date;
  /** How long approvals wait (`datakit:approvalTimeoutDays`, CodePipeline's approval timeout). */
  readonly approvalTimeoutMinutes: number;
  readonly ids?: () => string;
}

/** `POST /v1/promotions`. */
export interface PromotionRequest extends DeployTarget {
  readonly requestedBy: Caller;
  readonly override?: { readonly reason: string } | undefined;
  /** Proceeds although the PII gate finds violations, with an approval of group `security`. */
  readonly governanceOverride?: { readonly reason: string } | undefined;
  readonly idempotencyKey?: string | undefined;
}

/** `POST /v1/rollbacks`. */
export interface RollbackRequest {
  readonly namespace: string;
  readonly name: string;
  readonly env: string;
  readonly cell: string;
  readonly toVersion?: string | undefined;
  readonly requestedBy: Caller;
  readonly governanceOverride?: { readonly reason: string } | undefined;
  readonly idempotencyKey?: string | undefined;
}

/** `POST /v1/promotions/{id}/approvals`. */
export interface DecisionRequest {
  readonly promotionId: string;
  readonly decision: 'approve' | 'reject';
  readonly group?: string | undefined;
  readonly comment?: string | undefined;
  readonly caller: Caller;
}
