import type { PackageStatus } from '../../contracts/api/deployments.js';
import type { DeploymentRepository } from '../../ports/deployment-store.js';
import type { PackageReader } from '../../ports/package-repository.js';
import type { RunRepository } from '../../ports/run-store.js';
import { found } from '../errors.js';
import { triggersOnChange } from '../triggers/schedule.js';

/** The on-change state of a deployed consumer (the trigger slot). */
export type TriggerStateOf = (id: {
  readonly cell: string;
  readonly env: string;
  readonly namespace: string;
  readonly name: string;
}) => Promise<{
  readonly paused: boolean;
  readonly consecutiveFailures: number;
  readonly pausedAt?: string | undefined;
}>;

export interface StatusDependencies {
  readonly triggerState?: TriggerStateOf | undefined;
  readonly packages: PackageReader;
  readonly deployments: DeploymentRepository;
  readonly runs: Pick<RunRepository, 'lastRuns'>;
  /** Replicas running of a streaming deployment, when the runtime knows. */
  readonly replicasRunning?: (deployment: {
    readonly env: string;
    readonly cell: string;
    readonly namespace: string;
    readonly name: string;
  }) => Promise<number | undefined>;
}

/** `dk status`: per environment × cell, the deployed version, its state, the promotion and the last run. */
export function makePackageStatus(deps: StatusDependencies) {
  return async function packageStatus(namespace: string, name: string): Promise<PackageStatus> {
    const [head, deployments, lastRuns, open] = await Promise.all([
      deps.packages.get(namespace, name),
      deps.deployments.listDeploymentsOfPackage(namespace, name),
      deps.runs.lastRuns(namespace, name),
      deps.deployments.listPromotions({ namespace, name, limit: 100 }),
    ]);
    found(head, 'PACKAGE_NOT_FOUND', `No package ${namespace}/${name} is registered.`);
    const promoting = new Set(
      open.items
        .filter((promotion) => promotion.status === 'AWAITING_APPROVAL' || promotion.status === 'DEPLOYING')
        .map((promotion) => `${promotion.env}/${promotion.cell}`),
    );
    const rows = await Promise.all(
      deployments.map(async (deployment) => {
        const lastRun = lastRuns.find((run) => run.env === deployment.env && run.cell === deployment.cell);
        const running =
          deployment.mode === 'streaming' ? await deps.replicasRunning?.(deployment) : undefined;
        const trigger = triggersOnChange(deployment.trigger)
          ? await deps.triggerState?.(deployment)
          : undefined;
        return {
          env: deployment.env,
          cell: deployment.cell,
          version: deployment.version,
          digest: deployment.digest,
          status: promoting.has(`${deployment.env}/${deployment.cell}`)
            ? ('Promoting' as const)
            : ('Deployed' as const),
          deployedAt: deployment.deployedAt,
          promotionId: deployment.promotionId,
          ...(lastRun === undefined
            ? {}
            : {
                lastRun: {
                  runId: lastRun.runId,
                  status: lastRun.status,
                  ...(lastRun.startedAt === undefined ? {} : { startedAt: lastRun.startedAt }),
                  ...(lastRun.finishedAt === undefined ? {} : { finishedAt: lastRun.finishedAt }),
                },
              }),
          ...(deployment.mode === 'streaming'
            ? { replicas: { desired: deployment.replicas ?? 1, running: running ?? 0 } }
            : {}),
          ...(trigger === undefined
            ? {}
            : {
                trigger: {
                  paused: trigger.paused,
                  consecutiveFailures: trigger.consecutiveFailures,
                  ...(trigger.pausedAt === undefined ? {} : { pausedAt: trigger.pausedAt }),
                },
              }),
        };
      }),
    );
    return { namespace, name, deployments: rows };
  };
}
