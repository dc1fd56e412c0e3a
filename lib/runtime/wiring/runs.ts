import { DynamoAuditLog } from '../../adapters/dynamodb/audit-log.js';
import { DynamoCellStore } from '../../adapters/dynamodb/cell-store.js';
import { DynamoDeploymentStore } from '../../adapters/dynamodb/deployment-store.js';
import { openLineageGraph } from '../../adapters/dynamodb/lineage-store.js';
import { DynamoRunStore } from '../../adapters/dynamodb/run-store.js';
import { DynamoSubscriptionStore } from '../../adapters/dynamodb/subscription-store.js';
import { DynamoTriggerStore } from '../../adapters/dynamodb/trigger-store.js';
import { parseLineageEvent } from '../../contracts/openlineage/parse.js';
import { type CellMode, makeCells } from '../../domain/cells/cells.js';
import type { StreamingDeployer } from '../../domain/deployments/deploy.js';
import { makeCheckDeployable, makeDeployVersion, onChangeReaders } from '../../domain/deployments/deploy.js';
import { makePackageStatus } from '../../domain/deployments/status.js';
import {
  type GovernanceInputSource,
  makeGovernanceInputs,
} from '../../domain/governance/governance-inputs.js';
import { makePiiCheck } from '../../domain/governance/pii-gate.js';
import { GroupDirectory } from '../../domain/identity/groups.js';
import { makeIngestLineageEvent } from '../../domain/lineage/ingest.js';
import type { Environments } from '../../domain/promotions/environments.js';
import { makePromotions } from '../../domain/promotions/promotions.js';
import { makeRunSteps } from '../../domain/runs/run-steps.js';
import { makeRuns } from '../../domain/runs/runs.js';
import { buildTaskDefinition } from '../../domain/runs/task-definition.js';
import { makeTriggerResolver } from '../../domain/triggers/resolver.js';
import { triggeredRunStarter } from '../../domain/triggers/run-starter.js';
import { makeTriggerEvents } from '../../domain/triggers/trigger-events.js';
import type { DeploymentRecord } from '../../ports/deployment-store.js';
import type { PromotionPipeline } from '../../ports/promotion-pipeline.js';
import type { RunLogs } from '../../ports/run-logs.js';
import type { ScheduleControl } from '../../ports/schedule-control.js';
import type { SecretStore } from '../../ports/secret-store.js';
import type { ServiceControl } from '../../ports/service-control.js';
import type { TaskControl } from '../../ports/task-control.js';
import type { WorkflowStarter } from '../../ports/workflow-starter.js';
import { type EventDependencies, withEvents } from './events.js';
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
 * behind the `cells-api`, `runs-api`, `promotions-api` and `run-steps` functions and the embedded mode.
 */
export function createRunPlane(deps: RunPlaneDependencies, adapters: RunAdapters) {
  const cellStore = new DynamoCellStore(deps.table);
  const deployments = new DynamoDeploymentStore(deps.table);
  const runStore = new DynamoRunStore(deps.table, deps.clock, deps.config.RUN_RETENTION_DAYS);
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
  const cells = makeCells({
    cells: cellStore,
    secrets: adapters.secrets,
    clock: deps.clock,
    mode: adapters.cellMode,
  });
  const subscriptions = new DynamoSubscriptionStore(deps.table);
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
  // Who belongs to which approver group (`datakit:approverGroups`, `DATAKIT_GROUPS`).
  const groups = new GroupDirectory(deps.config.GROUPS);
  // The PII gate of governed environments reads what the governance report reads (ADR "PII gate at promotion").
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
  const runs = makeRuns({
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
  const triggers = makeTriggerResolver({
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
    audit: new DynamoAuditLog(deps.table),
    events: deps.events,
    clock: deps.clock,
  });
  /** Starts the service of a streaming deployment again (embedded mode's restart). */
  const resumeStreaming = async (deployment: DeploymentRecord): Promise<void> => {
    const deployable = await checkDeployable(deployment);
    await streaming.apply(deployable, deployment);
  };
  return {
    cells,
    runs,
    triggers,
    resumeStreaming,
    triggerEvents: makeTriggerEvents({ resolver: triggers, subscriptions, runs: runStore }),
    subscriptions,
    runSteps: makeRunSteps(runs),
    deployments,
    runStore,
    environments: adapters.environments,
    groups,
    promotions: makePromotions({
      promotions: deployments,
      pipeline: adapters.pipeline,
      events: deps.events,
      audit: new DynamoAuditLog(deps.table),
      environments: adapters.environments,
      groups,
      checkDeployable,
      piiCheck,
      deployVersion,
      idempotency: runStore,
      clock: deps.clock,
      approvalTimeoutMinutes: deps.config.APPROVAL_TIMEOUT_MINUTES,
    }),
    packageStatus: makePackageStatus({
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
    }),
  };
}

export type RunPlane = ReturnType<typeof createRunPlane>;
