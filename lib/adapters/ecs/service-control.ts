import type { ECSClient } from '@aws-sdk/client-ecs';
import type { CellRuntime, EcsCellRuntime } from '../../contracts/api/cells.js';
import { UnprocessableError } from '../../domain/errors.js';
import { type ServiceControl, type ServiceKey, serviceName } from '../../ports/service-control.js';
import type { TaskDefinitionSpec } from '../../ports/task-control.js';

/** The SDK module on first use: a bundle's static SDK imports all load at init (ADR 0012). */
const sdk = () => import('@aws-sdk/client-ecs');

function ecsRuntime(runtime: CellRuntime): EcsCellRuntime {
  if (runtime.kind !== 'ecs')
    throw new UnprocessableError('CELL_RUNTIME_UNSUPPORTED', 'This cell runs in embedded mode, not on ECS.');
  return runtime;
}

/**
 * Streaming Transforms as ECS services of the cell's cluster: Fargate, `desiredCount` replicas, rolling
 * updates with one extra replica and none unavailable (RUNTIME.md), the deployment circuit breaker with
 * rollback, so a version that cannot stay up rolls back instead of flapping.
 */
export class EcsServiceControl implements ServiceControl {
  constructor(private readonly client: Pick<ECSClient, 'send'>) {}

  async ensureService(
    runtime: CellRuntime,
    key: ServiceKey,
    service: {
      readonly taskDefinition: string;
      readonly spec: TaskDefinitionSpec;
      readonly replicas: number;
    },
  ): Promise<void> {
    const cell = ecsRuntime(runtime);
    const name = serviceName(key);
    const { CreateServiceCommand, DescribeServicesCommand, InvalidParameterException, UpdateServiceCommand } =
      await sdk();
    const update = () =>
      this.client.send(
        new UpdateServiceCommand({
          cluster: cell.clusterArn,
          service: name,
          taskDefinition: service.taskDefinition,
          desiredCount: service.replicas,
        }),
      );
    const existing = await this.client.send(
      new DescribeServicesCommand({ cluster: cell.clusterArn, services: [name] }),
    );
    if (existing.services?.some((found) => found.status === 'ACTIVE') === true) {
      await update();
      return;
    }
    try {
      await this.client.send(
        new CreateServiceCommand({
          cluster: cell.clusterArn,
          serviceName: name,
          taskDefinition: service.taskDefinition,
          desiredCount: service.replicas,
          launchType: 'FARGATE',
          networkConfiguration: {
            awsvpcConfiguration: {
              subnets: cell.subnets,
              securityGroups: cell.securityGroups,
              assignPublicIp: cell.assignPublicIp ? 'ENABLED' : 'DISABLED',
            },
          },
          deploymentConfiguration: {
            maximumPercent: 200,
            minimumHealthyPercent: 100,
            deploymentCircuitBreaker: { enable: true, rollback: true },
          },
          propagateTags: 'TASK_DEFINITION',
          enableECSManagedTags: true,
        }),
      );
    } catch (error) {
      // Created concurrently by a retried deploy: update what is there.
      if (!(error instanceof InvalidParameterException)) throw error;
      await update();
    }
  }

  async removeService(runtime: CellRuntime, key: ServiceKey): Promise<void> {
    const cell = ecsRuntime(runtime);
    const { DeleteServiceCommand, ServiceNotActiveException, ServiceNotFoundException } = await sdk();
    try {
      await this.client.send(
        new DeleteServiceCommand({ cluster: cell.clusterArn, service: serviceName(key), force: true }),
      );
    } catch (error) {
      if (!(error instanceof ServiceNotFoundException || error instanceof ServiceNotActiveException))
        throw error;
    }
  }

  async serviceStatus(runtime: CellRuntime, key: ServiceKey) {
    const cell = ecsRuntime(runtime);
    const { DescribeServicesCommand } = await sdk();
    const described = await this.client.send(
      new DescribeServicesCommand({ cluster: cell.clusterArn, services: [serviceName(key)] }),
    );
    const found = described.services?.find((service) => service.status === 'ACTIVE');
    return found === undefined
      ? undefined
      : { desired: found.desiredCount ?? 0, running: found.runningCount ?? 0 };
  }
}
