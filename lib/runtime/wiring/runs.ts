import { DynamoCellStore } from '../../adapters/dynamodb/cell-store.js';
import { DynamoDeploymentStore } from '../../adapters/dynamodb/deployment-store.js';
import { openLineageGraph } from '../../adapters/dynamodb/lineage-store.js';
import { DynamoRunStore } from '../../adapters/dynamodb/run-store.js';
import { DynamoSubscriptionStore } from '../../adapters/dynamodb/subscription-store.js';
import { DynamoTriggerStore } from '../../adapters/dynamodb/trigger-store.js';
import type { PackageStatus } from '../../contracts/api/deployments.js';
import type { CellMode } from '../../domain/cells/cells.js';
import type { StreamingDeployer } from '../../domain/deployments/deploy.js';
import type { GovernanceInputSource } from '../../domain/governance/governance-inputs.js';
import { GroupDirectory } from '../../domain/identity/groups.js';
import type { Environments } from '../../domain/promotions/environments.js';
import type { DeploymentRecord } from '../../ports/deployment-store.js';
import type { PromotionPipeline } from '../../ports/promotion-pipeline.js';
import type { RunLogs } from '../../ports/run-logs.js';
import type { ScheduleControl } from '../../ports/schedule-control.js';
import type { SecretStore } from '../../ports/secret-store.js';
import type { ServiceControl } from '../../ports/service-control.js';
import type { TaskControl } from '../../ports/task-control.js';
import type { WorkflowStarter } from '../../ports/workflow-starter.js';
import { type EventDependencies, withEvents } from './events.js';
import { lazyApi, once } from './lazy-api.js';
import { type LineageDependencies, withLineage } from './lineage.js';
import { type PackageDependencies, withPackages } from './packages.js';
import type { SharedDependencies } from './shared.js';

/** The runtime adapters of runs: AWS's (Step Functions, ECS, Secrets Manager, CloudWatch Logs) or local ones. */
export interface RunAdapters {
  readonly workflows: WorkflowStarter;
  readonly tasks: TaskControl;
  readonly secrets: SecretStore;
  readonly logs: RunLogs;
  /** Deployment schedules: EventBridge Scheduler in AWS, the in-process cron in embedded mode. */
  readonly schedules: ScheduleControl;
  /** Streaming Transforms' services: ECS services in AWS, supervised processes in embedded mode. */
  readonly services: ServiceControl;
  readonly cellMode: CellMode;
  readonly environments: Environments;
  /** The promotion pipelines: CodePipeline in AWS, the in-process stages in embedded mode. */
  readonly pipeline: PromotionPipeline;
  /** Where Transforms send their own OpenLineage events (this control plane), read when a run is prepared. */
  readonly lineageUrl: () => string;
}

/**
 * What the run plane builds on: the table, the bus, the registry's reads and the lineage store — and what
 * the governance report reads, when the composition has it already (the PII gate reads the same).
 */
export type RunPlaneDependencies = SharedDependencies &
  EventDependencies &
  PackageDependencies &
  LineageDependencies & { readonly governanceInputs?: GovernanceInputSource };

/** Adds the bus, the registry's reads and the lineage store (a Lambda function's wiring). */
export function withRunPlaneBase(deps: SharedDependencies): RunPlaneDependencies {
  return withLineage(withPackages(withEvents(deps)));
}

/**
 * Cells, deployments, promotions and runs (ADR 0006), wired on the base dependencies: the same use cases
 * behind the `cells-api`, `runs-api`, `promotions-api`, `run-steps` and trigger functions and the embedded
 * mode. Each use case's modules are imported on its first call (`lazyApi`): a function evaluates only the
 * ones it serves.
 */
export function createRunPlane(deps: RunPlaneDependencies, adapters: RunAdapters) {
  const cellStore = new DynamoCellStore(deps.table);
  const deployments = new DynamoDeploymentStore(deps.table);
  const runStore = new DynamoRunStore(deps.table, deps.clock, deps.config.RUN_RETENTION_DAYS);
  const subscriptions = new DynamoSubscriptionStore(deps.table);
  // Who belongs to which approver group (`datakit:approverGroups`, `DATAKIT_GROUPS`).
  const groups = new GroupDirectory(deps.config.GROUPS);

  const loadCells = once(async () => {
    const { makeCells } = await import('../../domain/cells/cells.js');
    return makeCells({
      cells: cellStore,
      secrets: adapters.secrets,
      clock: deps.clock,
      mode: adapters.cellMode,
    });
  });

  const loadRuns = once(async () => {
    const [{ makeRuns }, { makeIngestLineageEvent }, { parseLineageEvent }] = await Promise.all([
      import('../../domain/runs/runs.js'),
      import('../../domain/lineage/ingest.js'),
      import('../../contracts/openlineage/parse.js'),
    ]);
    const ingest = makeIngestLineageEvent({ store: deps.lineage, events: deps.events, clock: deps.clock });
    const emitLineage = async (event: Record<string, unknown>): Promise<void> => {
      const parsed = parseLineageEvent(JSON.stringify(event));
      if (!parsed.ok) {
        throw new Error(
          `a run's lineage event was refused: ${parsed.problems.map((p) => p.message).join('; ')}`,
        );
      }
      await ingest(parsed.event);
    };
    return makeRuns({
      runs: runStore,
      deployments,
      cells: cellStore,
      packages: deps.packages,
      workflows: adapters.workflows,
      tasks: adapters.tasks,
      secrets: adapters.secrets,
      logs: adapters.logs,
      events: deps.events,
      emitLineage,
      lineageJobOf: async (runId) => {
        const run = await deps.lineage.getRun(runId.toLowerCase());
        return run === undefined ? undefined : { namespace: run.namespace, name: run.jobName };
      },
      lineageEndpoint: adapters.lineageUrl,
      clock: deps.clock,
    });
  });

  const loadDeploys = once(async () => {
    const [{ makeCheckDeployable, makeDeployVersion }, { buildTaskDefinition }] = await Promise.all([
      import('../../domain/deployments/deploy.js'),
      import('../../domain/runs/task-definition.js'),
    ]);
    const checkDeployable = makeCheckDeployable({
      packages: deps.packages,
      cells: cellStore,
      cellMode: adapters.cellMode,
      deployments,
      subscriptions,
      clock: deps.clock,
    });
    const streaming: StreamingDeployer = {
      apply: async (deployable, deployment) => {
        const transform = deployable.resolved.transform;
        if (transform === undefined) return;
        const runtime = deployable.cell.runtime;
        const spec = await buildTaskDefinition({
          placement: {
            package: {
              namespace: deployment.namespace,
              name: deployment.name,
              version: deployment.version,
              digest: deployment.digest,
              repository: deployable.version.repository,
            },
            env: deployment.env,
            cell: deployment.cell,
            runtime,
          },
          transform,
          dataSets: deployable.resolved.dataSets,
          stores: deployable.stores,
          secrets: adapters.secrets,
          lineage: { url: adapters.lineageUrl() },
        });
        const taskDefinition = await adapters.tasks.registerTaskDefinition(spec);
        await adapters.services.ensureService(runtime, deployment, {
          taskDefinition,
          spec,
          replicas: deployment.replicas ?? 1,
        });
      },
      remove: async (deployment) => {
        const cell = await cellStore.getCell(deployment.cell);
        if (cell !== undefined) await adapters.services.removeService(cell.runtime, deployment);
      },
    };
    const deployVersion = makeDeployVersion({
      streaming,
      packages: deps.packages,
      cells: cellStore,
      deployments,
      subscriptions,
      schedules: adapters.schedules,
      events: deps.events,
      clock: deps.clock,
      cellMode: adapters.cellMode,
    });
    return { checkDeployable, deployVersion, streaming };
  });

  const loadTriggers = once(async () => {
    const [{ makeTriggerResolver }, { triggeredRunStarter }, { onChangeReaders }, runs] = await Promise.all([
      import('../../domain/triggers/resolver.js'),
      import('../../domain/triggers/run-starter.js'),
      import('../../domain/deployments/deploy.js'),
      loadRuns(),
    ]);
    return makeTriggerResolver({
      store: new DynamoTriggerStore(deps.table, deps.clock),
      runs: triggeredRunStarter(runs),
      subscriptions: {
        consumersOf: async (cell, dataset) =>
          (await onChangeReaders({ deployments, subscriptions }, cell, dataset)).map((deployment) => ({
            namespace: deployment.namespace,
            name: deployment.name,
            env: deployment.env,
            cell: deployment.cell,
          })),
      },
      audit: deps.audit,
      events: deps.events,
      clock: deps.clock,
    });
  });

  const loadTriggerEvents = once(async () => {
    const [{ makeTriggerEvents }, resolver] = await Promise.all([
      import('../../domain/triggers/trigger-events.js'),
      loadTriggers(),
    ]);
    return makeTriggerEvents({ resolver, subscriptions, runs: runStore });
  });

  const loadRunSteps = once(async () => {
    const [{ makeRunSteps }, runs] = await Promise.all([
      import('../../domain/runs/run-steps.js'),
      loadRuns(),
    ]);
    return makeRunSteps(runs);
  });

  const loadPromotions = once(async () => {
    const [
      { makePromotions },
      { makeGovernanceInputs },
      { makePiiCheck },
      { checkDeployable, deployVersion },
    ] = await Promise.all([
      import('../../domain/promotions/promotions.js'),
      import('../../domain/governance/governance-inputs.js'),
      import('../../domain/governance/pii-gate.js'),
      loadDeploys(),
    ]);
    // The PII gate of governed environments reads what the governance report reads (ADR 0017).
    const piiCheck = makePiiCheck({
      packages: deps.packages,
      inputs:
        deps.governanceInputs ??
        makeGovernanceInputs({
          packages: deps.packages,
          deployments,
          environments: adapters.environments.names(),
          lineageGraph: () => openLineageGraph(deps.table),
        }),
    });
    return makePromotions({
      promotions: deployments,
      pipeline: adapters.pipeline,
      events: deps.events,
      audit: deps.audit,
      environments: adapters.environments,
      groups,
      checkDeployable,
      piiCheck,
      deployVersion,
      idempotency: runStore,
      clock: deps.clock,
      approvalTimeoutMinutes: deps.config.APPROVAL_TIMEOUT_MINUTES,
    });
  });

  const loadStatus = once(async () => {
    const [{ makePackageStatus }, triggers] = await Promise.all([
      import('../../domain/deployments/status.js'),
      loadTriggers(),
    ]);
    return makePackageStatus({
      triggerState: (id) => triggers.state(id),
      packages: deps.packages,
      deployments,
      runs: runStore,
      replicasRunning: async (deployment) => {
        const cell = await cellStore.getCell(deployment.cell);
        return cell === undefined
          ? undefined
          : (await adapters.services.serviceStatus(cell.runtime, deployment))?.running;
      },
      environments: adapters.environments,
    });
  });

  return {
    cells: lazyApi(loadCells),
    runs: lazyApi(loadRuns),
    triggers: lazyApi(loadTriggers),
    triggerEvents: lazyApi(loadTriggerEvents),
    promotions: lazyApi(loadPromotions, ['stages']),
    /** Starts the service of a streaming deployment again (embedded mode's restart). */
    resumeStreaming: async (deployment: DeploymentRecord): Promise<void> => {
      const { checkDeployable, streaming } = await loadDeploys();
      await streaming.apply(await checkDeployable(deployment), deployment);
    },
    runSteps: async (payload: unknown): Promise<unknown> => (await loadRunSteps())(payload),
    packageStatus: async (namespace: string, name: string): Promise<PackageStatus> =>
      (await loadStatus())(namespace, name),
    subscriptions,
    deployments,
    runStore,
    environments: adapters.environments,
    groups,
  };
}

export type RunPlane = ReturnType<typeof createRunPlane>;
