import type { CellRuntime } from '../../contracts/api/cells.js';
import { type ServiceControl, type ServiceKey, serviceName } from '../../ports/service-control.js';
import type { TaskDefinitionSpec } from '../../ports/task-control.js';
import type { LocalServices } from './local-services.js';

/** Streaming Transforms in embedded mode: the local supervisor's replicas (restarted with backoff). */
export class LocalServiceControl implements ServiceControl {
  constructor(private readonly services: LocalServices) {}

  async ensureService(
    _runtime: CellRuntime,
    key: ServiceKey,
    service: {
      readonly taskDefinition: string;
      readonly spec: TaskDefinitionSpec;
      readonly replicas: number;
    },
  ): Promise<void> {
    await this.services.ensure(serviceName(key), service.spec, service.replicas);
  }

  async removeService(_runtime: CellRuntime, key: ServiceKey): Promise<void> {
    await this.services.remove(serviceName(key));
  }

  async serviceStatus(_runtime: CellRuntime, key: ServiceKey) {
    const status = this.services.status(serviceName(key));
    return status === undefined ? undefined : { desired: status.desired, running: status.running };
  }
}
