import * as z from 'zod';

/**
 * The run state machine of every cell, defined once (ADR 0006): the cell stack deploys this document
 * with `DefinitionBody.fromString` and the embedded mode executes it with `aws-local-stepfunctions`
 * after `localRunDefinition`. JSONPath ASL, no JSONata: the emulator runs JSONPath only.
 *
 * Prepare → RunTask (`ecs:runTask.sync`, timeout from the Transform) → Complete; every failure, the
 * timeout included, goes to Fail, which records it and ends the execution as failed.
 */

/** The only substitution: the ARN of the `run-steps` function that serves Prepare, Complete and Fail. */
export const runStepsFunctionSubstitution = 'RunStepsFunctionArn';

/** The input of an execution; its name is the run id too. */
export const runExecutionInputSchema = z.object({ runId: z.uuid() });
export type RunExecutionInput = z.infer<typeof runExecutionInputSchema>;

/** State names, used by the local overrides and the tests. */
export const runStates = {
  prepare: 'Prepare',
  runTask: 'RunTask',
  complete: 'Complete',
  fail: 'Fail',
  failed: 'RunFailed',
} as const;

/** The tag that carries a task's run id. */
export const runIdTag = 'datakit:run-id';

/** The name of the Transform's container in every task definition. */
export const transformContainerName = 'transform';

/** Lambda errors worth retrying (AWS's recommended set) plus our own retryable dependency failure. */
const lambdaRetry = {
  ErrorEquals: [
    'Lambda.ClientExecutionTimeoutException',
    'Lambda.ServiceException',
    'Lambda.AWSLambdaException',
    'Lambda.SdkClientException',
    'Lambda.TooManyRequestsException',
    'DependencyUnavailableError',
  ],
  IntervalSeconds: 2,
  MaxAttempts: 6,
  BackoffRate: 2,
  MaxDelaySeconds: 60,
  JitterStrategy: 'FULL' as const,
};

/** Longest `spec.timeout` a run may have: above this Step Functions' own limits get close. */
export const maxRunTimeoutSeconds = 7 * 24 * 3600;

/** How the RunTask state bounds the task: AWS reads the Transform's timeout from Prepare's output. */
type RunTaskTimeout = { readonly TimeoutSecondsPath: string } | { readonly TimeoutSeconds: number };

/** Builds the document; the two callers below differ only in the function ARN and the RunTask bound. */
function buildRunDefinition(runStepsFunctionArn: string, runTaskTimeout: RunTaskTimeout) {
  const step = (name: 'prepare' | 'complete' | 'fail', extra: Record<string, string>) => ({
    Type: 'Task' as const,
    Resource: 'arn:aws:states:::lambda:invoke',
    Parameters: {
      FunctionName: runStepsFunctionArn,
      Payload: { step: name, 'runId.$': '$.runId', ...extra },
    },
    // The steps answer within seconds; a generous bound still ends a hung invocation.
    TimeoutSeconds: 300,
    Retry: [lambdaRetry],
  });
  const toFail = [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: runStates.fail }];
  return {
    Comment: 'DataKit run: Prepare → RunTask (ECS, .sync) → Complete; any failure → Fail (ADR 0006)',
    StartAt: runStates.prepare,
    States: {
      [runStates.prepare]: {
        ...step('prepare', {}),
        ResultSelector: { 'task.$': '$.Payload' },
        ResultPath: '$.prepared',
        Catch: toFail,
        Next: runStates.runTask,
      },
      [runStates.runTask]: {
        Type: 'Task' as const,
        Resource: 'arn:aws:states:::ecs:runTask.sync',
        Parameters: {
          'Cluster.$': '$.prepared.task.cluster',
          'TaskDefinition.$': '$.prepared.task.taskDefinition',
          LaunchType: 'FARGATE',
          // The run id travels as a tag (Step Functions' .sync integration keeps StartedBy for itself):
          // cancel and the logs find a run's task by it.
          Tags: [{ Key: runIdTag, 'Value.$': '$.runId' }],
          'NetworkConfiguration.$': '$.prepared.task.networkConfiguration',
          'Overrides.$': '$.prepared.task.overrides',
          PropagateTags: 'TASK_DEFINITION',
        },
        ...runTaskTimeout,
        // The stopped task as DescribeTasks describes it (TaskArn, Containers with ExitCode, ...).
        ResultPath: '$.task',
        Catch: toFail,
        Next: runStates.complete,
      },
      [runStates.complete]: {
        ...step('complete', { 'task.$': '$.task' }),
        ResultPath: null,
        Catch: toFail,
        End: true as const,
      },
      [runStates.fail]: {
        ...step('fail', { 'error.$': '$.error' }),
        ResultPath: null,
        Next: runStates.failed,
      },
      [runStates.failed]: {
        Type: 'Fail' as const,
        Error: 'RunFailed',
        Cause: 'The run failed, timed out or was refused; GET /v1/runs/{runId} says why.',
      },
    },
  };
}

/** The ASL document as deployed, with `${RunStepsFunctionArn}` left for the deployer to substitute. */
export const runStateMachineDefinition = buildRunDefinition(`\${${runStepsFunctionSubstitution}}`, {
  TimeoutSecondsPath: '$.prepared.task.timeoutSeconds',
});

/** The document as a string, as CloudFormation takes it. */
export function runStateMachineAsl(): string {
  return JSON.stringify(runStateMachineDefinition, null, 2);
}

/**
 * The emulator's largest safe Task timeout: `setTimeout` overflows (and fires at once) above 2^31-1 ms.
 */
export const emulatorMaxTimeoutSeconds = 2_147_483;

/** The function ARN the embedded mode's document names; its Lambda states are overridden locally. */
export const localRunStepsFunctionArn = 'arn:aws:lambda:us-east-1:000000000000:function:datakit-run-steps';

/**
 * The document the embedded mode executes: the same states, with one difference. aws-local-stepfunctions
 * resolves `TimeoutSecondsPath` against the Parameters output instead of the state input (AWS's
 * behaviour) and cannot stop a task it does not own, so RunTask gets the largest timer the emulator
 * supports and the local runner enforces the Transform's timeout itself, failing with `States.Timeout`
 * as AWS would.
 */
export function localRunDefinition(): ReturnType<typeof buildRunDefinition> {
  return buildRunDefinition(localRunStepsFunctionArn, { TimeoutSeconds: emulatorMaxTimeoutSeconds });
}
