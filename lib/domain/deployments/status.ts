import type { PackageStatus } from '../../contracts/api/deployments.js';
import type {
  DeploymentRecord,
  DeploymentRepository,
  PromotionRecord,
} from '../../ports/deployment-store.js';
import type { PackageReader } from '../../ports/package-repository.js';
import type { RunRepository } from '../../ports/run-store.js';
import { found } from '../errors.js';
import type { Environments } from '../promotions/environments.js';
import { isOpen, pendingGroups } from '../promotions/promotion-state.js';
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
  /** The environments in promotion order: rows are sorted by it, then by cell. */
  readonly environments: Environments;
  /** Replicas running of a streaming deployment, when the runtime knows. */
  readonly replicasRunning?: (deployment: {
    readonly env: string;
    readonly cell: string;
    readonly namespace: string;
    readonly name: string;
  }) => Promise<number | undefined>;
}

/** How many of a package's most recent promotions status reads to find each env × cell's latest. */
const promotionsRead = 100;

function statusPromotion(promotion: PromotionRecord) {
  return {
    id: promotion.id,
    version: promotion.version,
    status: promotion.status,
    pendingGroups: promotion.status === 'AWAITING_APPROVAL' ? pendingGroups(promotion) : [],
    rollback: promotion.rollback !== undefined,
    ...(promotion.error === undefined ? {} : { error: promotion.error }),
  };
}

/**
 * `dk status`: per environment × cell, what is deployed (version, time, the promotion that put it there,
 * the last run) and its state: `Promoting` while a promotion there is open (with it), `Failed` when the
 * latest promotion there failed after the deployment (with it), else `Deployed`.
 */
export function makePackageStatus(deps: StatusDependencies) {
  return async function packageStatus(namespace: string, name: string): Promise<PackageStatus> {
    const [head, deployments, lastRuns, promotions] = await Promise.all([
      deps.packages.get(namespace, name),
      deps.deployments.listDeploymentsOfPackage(namespace, name),
      deps.runs.lastRuns(namespace, name),
      deps.deployments.listPromotions({ namespace, name, limit: promotionsRead }),
    ]);
    found(head, 'PACKAGE_NOT_FOUND', `No package ${namespace}/${name} is registered.`);
    const key = (env: string, cell: string) => `${env}\u0000${cell}`;
    const latest = new Map<string, PromotionRecord>();
    // Newest first: the first promotion seen of an env × cell is its latest.
    for (const promotion of promotions.items) {
      const at = key(promotion.env, promotion.cell);
      if (!latest.has(at)) latest.set(at, promotion);
    }
    const deployed = new Map<string, DeploymentRecord>(deployments.map((d) => [key(d.env, d.cell), d]));
    const places = new Map<string, { env: string; cell: string }>();
    for (const { env, cell } of [...deployments, ...latest.values()])
      places.set(key(env, cell), { env, cell });

    const rows = await Promise.all(
      [...places.entries()].map(async ([at, { env, cell }]) => {
        const deployment = deployed.get(at);
        const promotion = latest.get(at);
        const status =
          promotion !== undefined && isOpen(promotion.status)
            ? ('Promoting' as const)
            : promotion?.status === 'FAILED' &&
                (deployment === undefined || promotion.createdAt > deployment.deployedAt)
              ? ('Failed' as const)
              : deployment === undefined
                ? undefined
                : ('Deployed' as const);
        if (status === undefined) return undefined;
        const lastRun = lastRuns.find((run) => run.env === env && run.cell === cell);
        const running =
          deployment?.mode === 'streaming' ? await deps.replicasRunning?.(deployment) : undefined;
        const trigger =
          deployment !== undefined && triggersOnChange(deployment.trigger)
            ? await deps.triggerState?.(deployment)
            : undefined;
        return {
          env,
          cell,
          status,
          ...(deployment === undefined
            ? {}
            : {
                version: deployment.version,
                digest: deployment.digest,
                deployedAt: deployment.deployedAt,
                promotionId: deployment.promotionId,
              }),
          ...(status !== 'Deployed' && promotion !== undefined
            ? { promotion: statusPromotion(promotion) }
            : {}),
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
          ...(deployment?.mode === 'streaming'
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
    const order = deps.environments.names();
    const rank = (env: string) => {
      const index = order.indexOf(env);
      return index < 0 ? order.length : index;
    };
    return {
      namespace,
      name,
      deployments: rows
        .filter((row) => row !== undefined)
        .sort(
          (a, b) => rank(a.env) - rank(b.env) || a.env.localeCompare(b.env) || a.cell.localeCompare(b.cell),
        ),
    };
  };
}
