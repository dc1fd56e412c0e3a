import type { CloudWatchRunLogs } from '../../adapters/cloudwatch/run-logs.js';
import type { CodePipelinePromotionPipeline } from '../../adapters/codepipeline/promotion-pipeline.js';
import { DynamoCellStore } from '../../adapters/dynamodb/cell-store.js';
import { DynamoRunStore } from '../../adapters/dynamodb/run-store.js';
import { DynamoTaskDefinitionCache } from '../../adapters/dynamodb/task-definition-cache.js';
import type { EcsServiceControl } from '../../adapters/ecs/service-control.js';
import type { EcsTaskControl } from '../../adapters/ecs/task-control.js';
import type { EventBridgeScheduleControl } from '../../adapters/scheduler/schedule-control.js';
import type { SecretsManagerSecretStore } from '../../adapters/secrets-manager/secret-store.js';
import type { StepFunctionsWorkflowStarter } from '../../adapters/sfn/workflow-starter.js';
import { environmentsOf } from '../../domain/promotions/environments.js';
import type { RunAdapters } from './runs.js';
import { regionOf, type SharedDependencies, traced } from './shared.js';

/**
 * A port whose adapter (and AWS SDK client) is built on its first call. The run functions share one
 * composition, but each calls few of these services (cells-api only Secrets Manager, promotions-api only
 * CodePipeline and S3): loading every client at init would be most of each function's cold start.
 */
function onFirstCall<Port extends object>(load: () => Promise<Port>): Port {
  let loaded: Promise<Port> | undefined;
  return new Proxy(Object.create(null), {
    get: (_target, name) =>
      typeof name === 'string' && name !== 'then'
        ? async (...args: unknown[]) => {
            loaded ??= load();
            const port = await loaded;
            const method: unknown = Reflect.get(port, name);
            if (typeof method !== 'function') throw new Error(`the port has no method ${name}`);
            return Reflect.apply(method, port, args);
          }
        : undefined,
  });
}

/**
 * The AWS adapters of runs and promotions: Step Functions, ECS, Secrets Manager, CloudWatch Logs,
 * CodePipeline (and S3 for promotion requests), each built on first use.
 */
export function awsRunAdapters(deps: SharedDependencies): RunAdapters {
  const { config } = deps;
  const region = regionOf(config);
  const runs = new DynamoRunStore(deps.table, deps.clock, config.RUN_RETENTION_DAYS);
  const cells = new DynamoCellStore(deps.table);
  const ecs = async () => traced(deps, new (await import('@aws-sdk/client-ecs')).ECSClient(region));
  return {
    workflows: onFirstCall<StepFunctionsWorkflowStarter>(async () => {
      const [{ SFNClient }, { StepFunctionsWorkflowStarter }] = await Promise.all([
        import('@aws-sdk/client-sfn'),
        import('../../adapters/sfn/workflow-starter.js'),
      ]);
      return new StepFunctionsWorkflowStarter(traced(deps, new SFNClient(region)));
    }),
    tasks: onFirstCall<EcsTaskControl>(async () => {
      const { EcsTaskControl } = await import('../../adapters/ecs/task-control.js');
      return new EcsTaskControl(await ecs(), new DynamoTaskDefinitionCache(deps.table));
    }),
    secrets: onFirstCall<SecretsManagerSecretStore>(async () => {
      const [{ SecretsManagerClient }, { SecretsManagerSecretStore }] = await Promise.all([
        import('@aws-sdk/client-secrets-manager'),
        import('../../adapters/secrets-manager/secret-store.js'),
      ]);
      return new SecretsManagerSecretStore(traced(deps, new SecretsManagerClient(region)), config.STAGE);
    }),
    logs: onFirstCall<CloudWatchRunLogs>(async () => {
      const [{ CloudWatchLogsClient }, { CloudWatchRunLogs }, { EcsTaskControl }] = await Promise.all([
        import('@aws-sdk/client-cloudwatch-logs'),
        import('../../adapters/cloudwatch/run-logs.js'),
        import('../../adapters/ecs/task-control.js'),
      ]);
      const tasks = new EcsTaskControl(await ecs(), new DynamoTaskDefinitionCache(deps.table));
      return new CloudWatchRunLogs(traced(deps, new CloudWatchLogsClient(region)), async (runId) => {
        const run = await runs.getRun(runId);
        if (run?.taskArn !== undefined) return run.taskArn;
        const cell = run === undefined ? undefined : await cells.getCell(run.cell);
        if (cell?.runtime.kind !== 'ecs') return undefined;
        return (await tasks.runTaskArns(cell.runtime, runId))[0];
      });
    }),
    schedules: onFirstCall<EventBridgeScheduleControl>(async () => {
      const [{ SchedulerClient }, { EventBridgeScheduleControl }] = await Promise.all([
        import('@aws-sdk/client-scheduler'),
        import('../../adapters/scheduler/schedule-control.js'),
      ]);
      const { SCHEDULE_GROUP, SCHEDULE_TARGET_ARN, SCHEDULE_ROLE_ARN, SCHEDULE_DLQ_ARN } = config;
      if (
        SCHEDULE_GROUP === undefined ||
        SCHEDULE_TARGET_ARN === undefined ||
        SCHEDULE_ROLE_ARN === undefined ||
        SCHEDULE_DLQ_ARN === undefined
      ) {
        throw new Error('this function has no SCHEDULE_* settings: it cannot manage deployment schedules');
      }
      return new EventBridgeScheduleControl(traced(deps, new SchedulerClient(region)), {
        groupName: SCHEDULE_GROUP,
        functionArn: SCHEDULE_TARGET_ARN,
        roleArn: SCHEDULE_ROLE_ARN,
        deadLetterQueueArn: SCHEDULE_DLQ_ARN,
      });
    }),
    services: onFirstCall<EcsServiceControl>(async () => {
      const { EcsServiceControl } = await import('../../adapters/ecs/service-control.js');
      return new EcsServiceControl(await ecs());
    }),
    pipeline: onFirstCall<CodePipelinePromotionPipeline>(async () => {
      const pipelines = config.PROMOTION_PIPELINES;
      const bucket = config.PROMOTION_REQUESTS_BUCKET;
      if (pipelines === undefined || bucket === undefined) {
        throw new Error(
          'this function has no promotion pipelines (PROMOTION_PIPELINES, PROMOTION_REQUESTS_BUCKET)',
        );
      }
      const [
        { CodePipelineClient },
        { S3Client },
        { codePipelineControl },
        { CodePipelinePromotionPipeline },
        { S3BlobStore },
      ] = await Promise.all([
        import('@aws-sdk/client-codepipeline'),
        import('@aws-sdk/client-s3'),
        import('../../adapters/codepipeline/control.js'),
        import('../../adapters/codepipeline/promotion-pipeline.js'),
        import('../../adapters/s3/blob-store.js'),
      ]);
      return new CodePipelinePromotionPipeline(
        await codePipelineControl(traced(deps, new CodePipelineClient(region))),
        new S3BlobStore(traced(deps, new S3Client(region)), bucket),
        pipelines,
      );
    }),
    cellMode: 'aws',
    environments: environmentsOf(config.ENVIRONMENTS),
    lineageUrl: () => config.OPENLINEAGE_ENDPOINT,
  };
}
