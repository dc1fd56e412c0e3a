import type { DeployedDataSet } from '../../contracts/api/deployments.js';
import type { PackageVersion } from '../../contracts/api/packages.js';
import type { Problem } from '../../contracts/problem.js';
import type { CellRecord, CellStoreRepository, StoreRecord } from '../../ports/cell-store.js';
import type { DeploymentRecord, DeploymentRepository } from '../../ports/deployment-store.js';
import type { EventPublisher } from '../../ports/event-publisher.js';
import type { PackageReader } from '../../ports/package-repository.js';
import type { ScheduleControl } from '../../ports/schedule-control.js';
import type { Subscription, SubscriptionStore } from '../../ports/subscription-store.js';
import { type CellMode, cellNotFound } from '../cells/cells.js';
import { ConflictError, NotFoundError, UnprocessableError } from '../errors.js';
import { checkDeprecations } from '../governance/deprecation.js';
import { lineageNameOf } from '../runs/run-lineage.js';
import { findTriggerCycle } from '../triggers/cycles.js';
import { scheduleOf, triggerProblems, triggersOnChange } from '../triggers/schedule.js';
import { type ResolvedPackage, resolvePackage, storesNeeded } from './package-resolution.js';

/** How many earlier versions a deployment remembers (what a rollback can return to). */
export const deploymentHistoryLength = 10;

/** Runs the streaming Transform of a deployment as a service (ADR 0006): created, replaced, removed with it. */
export interface StreamingDeployer {
  apply(deployable: DeployableVersion, deployment: DeploymentRecord): Promise<void>;
  remove(deployment: DeploymentRecord): Promise<void>;
}

export interface DeployDependencies {
  readonly packages: PackageReader;
  readonly cells: CellStoreRepository;
  readonly deployments: DeploymentRepository;
  readonly subscriptions: SubscriptionStore;
  readonly schedules: ScheduleControl;
  /** Streaming Transforms' services; without it, deploying one is refused. */
  readonly streaming?: StreamingDeployer | undefined;
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
  /** The Stores the package's DataSets live in, by cell then name. */
  readonly stores: ReadonlyMap<string, ReadonlyMap<string, StoreRecord>>;
  /** What the deploy should be told but does not refuse it: deprecated inputs, a deprecated package. */
  readonly warnings: readonly string[];
}

/**
 * The checks every deploy passes first (dev promotions, promotion pipelines, rollbacks): the version is
 * registered cleanly, the cell exists, every DataSet the package names is declared, and every Store
 * those DataSets live in exists in its cell. Each refusal names what is missing.
 */
export function makeCheckDeployable(
  deps: Pick<
    DeployDependencies,
    'packages' | 'cells' | 'cellMode' | 'deployments' | 'subscriptions' | 'clock'
  >,
) {
  return async function checkDeployable(target: DeployTarget): Promise<DeployableVersion> {
    // Each DataSet is read once: resolving the package reads the contracts, the deprecation check reads them again.
    const dataSets = new Map<string, ReturnType<typeof deps.packages.getDataSet>>();
    const lookup = (namespace: string, name: string) => {
      const key = `${namespace}/${name}`;
      let read = dataSets.get(key);
      if (read === undefined) {
        read = deps.packages.getDataSet(namespace, name);
        dataSets.set(key, read);
      }
      return read;
    };
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
    const resolved = await resolvePackage(version, target.cell, lookup);
    if (resolved.undeclared.length > 0) {
      const names = resolved.undeclared.map((dataSet) => `${dataSet.namespace}/${dataSet.name}`);
      throw new UnprocessableError(
        'DEPLOY_DATASET_UNDECLARED',
        `No registered package declares ${names.join(', ')}, so no Store holds it; register the DataSet package first.`,
        { problems: names.map((name) => ({ code: 'DEPLOY_DATASET_UNDECLARED', message: name })) },
      );
    }
    const missing: Problem[] = [];
    const storeRecords = new Map<string, ReadonlyMap<string, StoreRecord>>();
    for (const [cellName, stores] of storesNeeded(resolved)) {
      const present = await deps.cells.getStores(cellName, [...stores]);
      storeRecords.set(cellName, present);
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
    const trigger = deployedTrigger(resolved);
    const problems = triggerProblems(trigger);
    if (problems.length > 0) {
      throw new UnprocessableError(
        problems[0]?.code ?? 'TRIGGER_INVALID',
        problems.map((p) => p.message).join('; '),
        {
          problems,
        },
      );
    }
    if (triggersOnChange(trigger)) {
      const { inputs, outputs } = boundDataSets(resolved, storeRecords);
      const cycle = await findTriggerCycle(
        { namespace: target.namespace, name: target.name, inputs, outputs },
        async (dataSet) => {
          const readers = await onChangeReaders(deps, dataSet.cell, dataSet);
          return readers.map((reader) => ({
            namespace: reader.namespace,
            name: reader.name,
            outputs: reader.outputs ?? [],
          }));
        },
      );
      if (cycle !== undefined) {
        throw new ConflictError(
          'TRIGGER_CYCLE',
          `Deploying ${target.namespace}/${target.name} with an on-change trigger would close a cycle in cell ${target.cell}: ${cycle.join(' → ')}.`,
          { problems: [{ code: 'TRIGGER_CYCLE', path: 'spec.trigger', message: cycle.join(' → ') }] },
        );
      }
    }
    const warnings = await deprecationWarnings(deps, target, resolved, lookup);
    return { target, version, cell, resolved, stores: storeRecords, warnings };
  };
}

/**
 * Deprecations a deploy meets (issue 11): inputs deprecated (themselves or through the DataSet package
 * declaring them) and the package itself. Warnings, or — past a sunset, for a consumer this environment
 * and cell does not run yet — a refusal with every reason.
 */
async function deprecationWarnings(
  deps: Pick<DeployDependencies, 'packages' | 'deployments' | 'clock'>,
  target: DeployTarget,
  resolved: ResolvedPackage,
  lookup: (namespace: string, name: string) => ReturnType<DeployDependencies['packages']['getDataSet']>,
): Promise<readonly string[]> {
  const inputs = resolved.dataSets.filter((dataSet) => dataSet.role === 'input');
  const [pkg, current, details] = await Promise.all([
    deps.packages.get(target.namespace, target.name),
    deps.deployments.getDeployment(target.namespace, target.name, target.env, target.cell),
    Promise.all(inputs.map((input) => lookup(input.contract.namespace, input.contract.name))),
  ]);
  const reads = new Set((current?.inputs ?? []).map((input) => `${input.namespace}/${input.name}`));
  const { warnings, refusals } = checkDeprecations({
    target,
    packageDeprecation: pkg?.deprecation,
    alreadyDeployed: current !== undefined,
    inputs: inputs.map((input, index) => ({
      namespace: input.contract.namespace,
      name: input.contract.name,
      deprecation: details[index]?.deprecation,
      alreadyRead: reads.has(`${input.contract.namespace}/${input.contract.name}`),
    })),
    now: deps.clock(),
  });
  const first = refusals[0];
  if (first !== undefined) {
    throw new UnprocessableError(first.code, refusals.map((refusal) => refusal.message).join('; '), {
      problems: refusals,
    });
  }
  return warnings;
}

/** The trigger a Transform version declares, as a deployment records it. */
function deployedTrigger(resolved: ResolvedPackage) {
  const trigger = resolved.transform?.spec.trigger;
  if (trigger === undefined) return undefined;
  return {
    policy: trigger.policy,
    ...(trigger.policies === undefined ? {} : { policies: trigger.policies }),
    ...(trigger.schedule?.cron === undefined ? {} : { cron: trigger.schedule.cron }),
    ...(trigger.schedule?.timezone === undefined ? {} : { timezone: trigger.schedule.timezone }),
  };
}

/** A Transform's inputs and outputs bound to cells, with their OpenLineage names from the Stores. */
function boundDataSets(
  resolved: ResolvedPackage,
  stores: ReadonlyMap<string, ReadonlyMap<string, StoreRecord>>,
): { inputs: DeployedDataSet[]; outputs: DeployedDataSet[] } {
  const of = (role: 'input' | 'output') =>
    resolved.dataSets
      .filter((dataSet) => dataSet.role === role)
      .map((dataSet) => {
        const store = stores.get(dataSet.cell)?.get(dataSet.contract.store);
        return {
          namespace: dataSet.contract.namespace,
          name: dataSet.contract.name,
          cell: dataSet.cell,
          ...(store === undefined
            ? {}
            : { lineage: lineageNameOf(dataSet.contract, dataSet.cell, store.manifest) }),
        };
      });
  return { inputs: of('input'), outputs: of('output') };
}

/**
 * The deployed on-change consumers of a DataSet updated in a cell: its subscriptions joined with the
 * committed deployments (a subscription counts only while its version is the deployed one).
 */
export async function onChangeReaders(
  deps: Pick<DeployDependencies, 'deployments' | 'subscriptions'>,
  cell: string,
  dataset: { readonly namespace: string; readonly name: string },
): Promise<DeploymentRecord[]> {
  const subscriptions = await deps.subscriptions.subscriptionsOf(cell, dataset);
  const deployments = await Promise.all(
    subscriptions.map(async (subscription) => {
      const { consumer } = subscription;
      const deployment = await deps.deployments.getDeployment(
        consumer.namespace,
        consumer.name,
        consumer.env,
        consumer.cell,
      );
      return deployment !== undefined &&
        deployment.version === subscription.version &&
        triggersOnChange(deployment.trigger)
        ? deployment
        : undefined;
    }),
  );
  return deployments.filter((deployment): deployment is DeploymentRecord => deployment !== undefined);
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
  const trigger = deployedTrigger(resolved);
  const { inputs, outputs } = boundDataSets(resolved, deployable.stores);
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
    ...(trigger === undefined ? {} : { trigger }),
    ...(resolved.transform === undefined ? {} : { inputs, outputs }),
  };
}

/** The on-change subscriptions a deployment owns: one per input, in the cell the input is read from. */
function subscriptionsOf(deployment: DeploymentRecord): Subscription[] {
  if (!triggersOnChange(deployment.trigger)) return [];
  const unique = new Map<string, Subscription>();
  for (const input of deployment.inputs ?? []) {
    unique.set(`${input.cell}/${input.namespace}/${input.name}`, {
      cell: input.cell,
      dataset: { namespace: input.namespace, name: input.name },
      consumer: {
        namespace: deployment.namespace,
        name: deployment.name,
        env: deployment.env,
        cell: deployment.cell,
      },
      version: deployment.version,
    });
  }
  return [...unique.values()];
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
    // Staged first, invisible until the deployment naming their version commits (ADR 0006).
    const subscriptions = subscriptionsOf(next);
    await deps.subscriptions.putSubscriptions(subscriptions);
    const aliases = new Map(
      [...(next.inputs ?? []), ...(next.outputs ?? [])].flatMap((dataSet) =>
        dataSet.lineage === undefined
          ? []
          : [
              [
                `${dataSet.lineage.namespace}|${dataSet.lineage.name}|${dataSet.cell}|${dataSet.namespace}|${dataSet.name}`,
                {
                  lineage: dataSet.lineage,
                  cell: dataSet.cell,
                  namespace: dataSet.namespace,
                  name: dataSet.name,
                },
              ] as const,
            ],
      ),
    );
    await deps.subscriptions.putAliases([...aliases.values()]);
    const committed = await deps.deployments.commitDeployment(next, current?.revision ?? 0);
    // After the commit: the replaced version's subscriptions (invisible since the commit), its service when
    // it no longer streams, the schedule.
    if (current !== undefined && current.version !== committed.version) {
      await deps.subscriptions.deleteSubscriptions(
        subscriptionsOf({ ...current, trigger: { policy: 'on-change' } }),
      );
    }
    if (committed.mode === 'streaming') {
      if (deps.streaming === undefined) {
        throw new UnprocessableError(
          'DEPLOY_STREAMING_UNSUPPORTED',
          'This control plane cannot run streaming Transforms.',
        );
      }
      await deps.streaming.apply(deployable, committed);
    } else if (current?.mode === 'streaming') {
      await deps.streaming?.remove(current);
    }
    const id = {
      cell: committed.cell,
      env: committed.env,
      namespace: committed.namespace,
      name: committed.name,
    };
    const schedule = scheduleOf(committed.trigger);
    if (schedule?.cron === undefined) await deps.schedules.delete(id);
    else await deps.schedules.put(id, { cron: schedule.cron, timezone: schedule.timezone });
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
