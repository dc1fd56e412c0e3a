import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { CloudWatchRunLogs } from '../adapters/cloudwatch/run-logs.js';
import { DynamoCellStore } from '../adapters/dynamodb/cell-store.js';
import { DynamoRunStore } from '../adapters/dynamodb/run-store.js';
import { DynamoTaskDefinitionCache } from '../adapters/dynamodb/task-definition-cache.js';
import { EcsTaskControl } from '../adapters/ecs/task-control.js';
import { SecretsManagerSecretStore } from '../adapters/secrets-manager/secret-store.js';
import { StepFunctionsWorkflowStarter } from '../adapters/sfn/workflow-starter.js';
import { Environments, environmentsSchema } from '../domain/promotions/environments.js';
import type { Dependencies } from './dependencies.js';
import type { RunAdapters } from './run-plane.js';

/** The environments from `ENVIRONMENTS` (JSON), or the default dev → int → prod. */
export function environmentsOf(json: string | undefined): Environments {
  if (json === undefined) return new Environments();
  return new Environments(environmentsSchema.parse(JSON.parse(json)));
}

/** The AWS adapters of runs: Step Functions, ECS, Secrets Manager, CloudWatch Logs. */
export function awsRunAdapters(deps: Dependencies): RunAdapters {
  const { config } = deps;
  const region = config.AWS_REGION === undefined ? {} : { region: config.AWS_REGION };
  const ecs = new ECSClient(region);
  const runs = new DynamoRunStore(deps.table, deps.clock);
  const cells = new DynamoCellStore(deps.table);
  return {
    workflows: new StepFunctionsWorkflowStarter(new SFNClient(region)),
    tasks: new EcsTaskControl(ecs, new DynamoTaskDefinitionCache(deps.table)),
    secrets: new SecretsManagerSecretStore(new SecretsManagerClient(region), config.STAGE),
    logs: new CloudWatchRunLogs(new CloudWatchLogsClient(region), async (runId) => {
      const run = await runs.getRun(runId);
      if (run?.taskArn !== undefined) return run.taskArn;
      const cell = run === undefined ? undefined : await cells.getCell(run.cell);
      if (cell?.runtime.kind !== 'ecs') return undefined;
      const listed = await ecs.send(
        new ListTasksCommand({ cluster: cell.runtime.clusterArn, startedBy: runId }),
      );
      return listed.taskArns?.[0];
    }),
    cellMode: 'aws',
    environments: environmentsOf(config.ENVIRONMENTS),
    lineageUrl: config.OPENLINEAGE_ENDPOINT,
  };
}
