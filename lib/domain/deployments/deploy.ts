import type { PackageVersion } from '../../contracts/api/packages.js';
import type { Problem } from '../../contracts/problem.js';
import type { CellRecord, CellStoreRepository } from '../../ports/cell-store.js';
import type { DeploymentRecord, DeploymentRepository } from '../../ports/deployment-store.js';
import type { EventPublisher } from '../../ports/event-publisher.js';
import type { PackageReader } from '../../ports/package-repository.js';
import { type CellMode, cellNotFound } from '../cells/cells.js';
import { NotFoundError, UnprocessableError } from '../errors.js';
import { type ResolvedPackage, resolvePackage, storesNeeded } from './package-resolution.js';

/** How many earlier versions a deployment remembers (what a rollback can return to). */
export const deploymentHistoryLength = 10;

export interface DeployDependencies {
  readonly packages: PackageReader;
  readonly cells: CellStoreRepository;
  readonly deployments: DeploymentRepository;
  readonly events: EventPublisher;
  readonly clock: () => Date;
  readonly cellMode: CellMode;
}

export interface DeployTarget {
  readonly namespace: string;
  readonly name: string;
  readonly version: string;
  readonly env: string;
  readonly cell: string;
}

/** A version checked against a cell: everything a deploy needs, or the refusal already thrown. */
export interface DeployableVersion {
  readonly target: DeployTarget;
  readonly version: PackageVersion;
  readonly cell: CellRecord;
  readonly resolved: ResolvedPackage;
}

/**
 * The checks every deploy passes first (dev promotions, promotion pipelines, rollbacks): the version is
 * registered cleanly, the cell exists, every DataSet the package names is declared, and every Store
 * those DataSets live in exists in its cell. Each refusal names what is missing.
 */
export function makeCheckDeployable(deps: Pick<DeployDependencies, 'packages' | 'cells' | 'cellMode'>) {
  return async function checkDeployable(target: DeployTarget): Promise<DeployableVersion> {
    const [version, cell] = await Promise.all([
      deps.packages.getVersion(target.namespace, target.name, target.version),
      deps.cells.getCell(target.cell),
    ]);
    if (version === undefined) {
      const registrations = await deps.packages.registrationsOfVersion(
        target.namespace,
        target.name,
        target.version,
      );
      const rejected = registrations.filter((registration) => registration.status === 'rejected');
      if (rejected.length > 0) {
        throw new UnprocessableError(
          'DEPLOY_VERSION_REJECTED',
          `Version ${target.version} of ${target.namespace}/${target.name} was rejected at registration; only registered versions deploy.`,
          { problems: rejected.flatMap((registration) => registration.problems).slice(0, 50) },
        );
      }
      throw new NotFoundError(
        'VERSION_NOT_FOUND',
        `No version ${target.version} of ${target.namespace}/${target.name} is registered.`,
      );
    }
    if (cell === undefined) throw cellNotFound(target.cell, deps.cellMode);
    const resolved = await resolvePackage(version, target.cell, (namespace, name) =>
      deps.packages.getDataSet(namespace, name),
    );
    if (resolved.undeclared.length > 0) {
      const names = resolved.undeclared.map((dataSet) => `${dataSet.namespace}/${dataSet.name}`);
      throw new UnprocessableError(
        'DEPLOY_DATASET_UNDECLARED',
        `No registered package declares ${names.join(', ')}, so no Store holds it; register the DataSet package first.`,
        { problems: names.map((name) => ({ code: 'DEPLOY_DATASET_UNDECLARED', message: name })) },
      );
    }
    const missing: Problem[] = [];
    for (const [cellName, stores] of storesNeeded(resolved)) {
      const present = await deps.cells.getStores(cellName, [...stores]);
      for (const store of [...stores].sort()) {
        if (!present.has(store)) {
          missing.push({
            code: 'DEPLOY_STORE_MISSING',
            path: cellName === target.cell ? store : `${cellName}/${store}`,
            message: `cell ${cellName} has no store ${store}`,
          });
        }
      }
    }
    if (missing.length > 0) {
      throw new UnprocessableError(
        'DEPLOY_STORE_MISSING',
        `Stores missing: ${missing.map((problem) => problem.path).join(', ')}; create them with PUT /v1/cells/{cell}/stores/{store}.`,
        { problems: missing },
      );
    }
    return { target, version, cell, resolved };
  };
}

export type CheckDeployable = ReturnType<typeof makeCheckDeployable>;

/** The next deployment record: the new version on top, the replaced one first in the history. */
export function nextDeployment(
  current: DeploymentRecord | undefined,
  deployable: DeployableVersion,
  promotionId: string,
  at: string,
): DeploymentRecord {
  const { version, target, resolved } = deployable;
  const replaced =
    current === undefined || current.version === version.version
      ? []
      : [
          {
            version: current.version,
            digest: current.digest,
            deployedAt: current.deployedAt,
            promotionId: current.promotionId,
          },
        ];
  const spec = resolved.transform?.spec;
  const trigger = spec?.trigger;
  return {
    namespace: target.namespace,
    name: target.name,
    env: target.env,
    cell: target.cell,
    kind: version.kind,
    version: version.version,
    digest: version.digest,
    deployedAt: at,
    promotionId,
    history: [...replaced, ...(current?.history ?? [])].slice(0, deploymentHistoryLength),
    revision: current?.revision ?? 0,
    ...(spec === undefined ? {} : { mode: spec.mode ?? 'batch' }),
    ...(spec?.mode === 'streaming' ? { replicas: spec.replicas ?? 1 } : {}),
    ...(trigger === undefined
      ? {}
      : {
          trigger: {
            policy: trigger.policy,
            ...(trigger.policies === undefined ? {} : { policies: trigger.policies }),
            ...(trigger.schedule?.cron === undefined ? {} : { cron: trigger.schedule.cron }),
            ...(trigger.schedule?.timezone === undefined ? {} : { timezone: trigger.schedule.timezone }),
          },
        }),
  };
}

/**
 * The one deploy (ADR 0006): commits the deployment record of a checked version with optimistic
 * locking, then announces `Package Deployed`. A concurrent deploy of the same environment and cell makes
 * this one fail with CONCURRENT_MODIFICATION rather than silently overwrite it.
 */
export function makeDeployVersion(deps: DeployDependencies) {
  return async function deployVersion(
    deployable: DeployableVersion,
    promotionId: string,
  ): Promise<DeploymentRecord> {
    const { target } = deployable;
    const current = await deps.deployments.getDeployment(
      target.namespace,
      target.name,
      target.env,
      target.cell,
    );
    const at = deps.clock().toISOString();
    const next = nextDeployment(current, deployable, promotionId, at);
    const committed = await deps.deployments.commitDeployment(next, current?.revision ?? 0);
    await deps.events.publish([
      {
        detailType: 'Package Deployed',
        detail: {
          namespace: committed.namespace,
          name: committed.name,
          version: committed.version,
          digest: committed.digest,
          env: committed.env,
          cell: committed.cell,
          promotionId,
          deployedAt: committed.deployedAt,
          ...(current === undefined || current.version === committed.version
            ? {}
            : { previousVersion: current.version }),
        },
      },
    ]);
    return committed;
  };
}

export type DeployVersion = ReturnType<typeof makeDeployVersion>;
