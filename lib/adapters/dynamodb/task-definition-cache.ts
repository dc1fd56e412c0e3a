import type { TaskDefinitionCache } from '../ecs/task-control.js';
import { keys } from './keys.js';
import type { SingleTable } from './single-table.js';

/** Task definitions registered per family and spec hash (`TASKDEF#{family}` / `{hash}`). */
export class DynamoTaskDefinitionCache implements TaskDefinitionCache {
  constructor(private readonly table: SingleTable) {}

  async get(family: string, specHash: string): Promise<string | undefined> {
    const item = await this.table.get(keys.taskDefinition(family, specHash), { consistent: false });
    return typeof item?.arn === 'string' ? item.arn : undefined;
  }

  async put(family: string, specHash: string, arn: string): Promise<void> {
    await this.table.put({ ...keys.taskDefinition(family, specHash), arn });
  }
}
