import { Logger } from '@aws-lambda-powertools/logger';
import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { LocalWorkflows } from '../../../lib/adapters/local/local-workflows.js';
import {
  emulatorMaxTimeoutSeconds,
  localRunDefinition,
  localRunStepsFunctionArn,
  runStateMachineAsl,
  runStateMachineDefinition,
  runStates,
  runStepsFunctionSubstitution,
} from '../../../lib/contracts/workflows/run-state-machine.js';
import type { StoppedTask } from '../../../lib/ports/task-control.js';

const runId = '0b6d2f8e-5a3c-4d2b-9e1f-7a6b5c4d3e2f';
const local = { kind: 'local' } as const;

interface Recorded {
  readonly steps: { step: string; payload: Record<string, unknown> }[];
  readonly tasks: Record<string, unknown>[];
}

/** Runs the embedded document once with step and task handlers that record what they were given. */
async function execute(
  runTask: (signal: AbortSignal) => Promise<StoppedTask>,
  options: { prepare?: () => never; cancelAfterMs?: number } = {},
) {
  const recorded: Recorded = { steps: [], tasks: [] };
  const workflows = new LocalWorkflows(
    {
      step: async (payload) => {
        const record = payload as Record<string, unknown>;
        recorded.steps.push({ step: String(record.step), payload: record });
        if (record.step === 'prepare') {
          options.prepare?.();
          return {
            cluster: 'local',
            taskDefinition: 'local:task-definition/datakit-local-sales-orders:abc',
            networkConfiguration: {},
            overrides: {
              ContainerOverrides: [{ Name: 'transform', Environment: [{ Name: 'DK_RUN_ID', Value: runId }] }],
            },
            timeoutSeconds: 5,
          };
        }
        return { runId };
      },
      runTask: async (parameters, signal) => {
        recorded.tasks.push(parameters);
        return runTask(signal);
      },
    },
    new Logger({ logLevel: 'SILENT' }),
  );
  await workflows.startRun(local, runId);
  if (options.cancelAfterMs !== undefined) {
    await new Promise((resolve) => setTimeout(resolve, options.cancelAfterMs));
    await workflows.stopRun(local, runId, 'cancelled by test');
  }
  await workflows.drain();
  return recorded;
}

const stopped = (exitCode: number): StoppedTask => ({
  TaskArn: `local:task/${runId}`,
  StartedBy: runId,
  Containers: [{ Name: 'transform', ExitCode: exitCode }],
});

const named = (name: string, message: string) => Object.assign(new Error(message), { name });

describe('the run state machine document', () => {
  it('is valid ASL for the emulator, deployed and local alike', () => {
    expect(() => new StateMachine(localRunDefinition(), {})).not.toThrow();
    expect(JSON.parse(runStateMachineAsl())).toEqual(runStateMachineDefinition);
  });

  it('differs locally only in the function ARN and the RunTask timer the runner enforces', () => {
    const deployed = JSON.parse(
      runStateMachineAsl().replaceAll(`\${${runStepsFunctionSubstitution}}`, localRunStepsFunctionArn),
    );
    const { TimeoutSecondsPath, ...deployedRunTask } = deployed.States[runStates.runTask];
    expect(TimeoutSecondsPath).toBe('$.prepared.task.timeoutSeconds');
    expect(localRunDefinition().States[runStates.runTask]).toEqual({
      ...deployedRunTask,
      TimeoutSeconds: emulatorMaxTimeoutSeconds,
    });
    expect({ ...localRunDefinition().States, [runStates.runTask]: undefined }).toEqual({
      ...deployed.States,
      [runStates.runTask]: undefined,
    });
  });
});

describe('the run state machine, executed locally', () => {
  it('runs Prepare → RunTask → Complete, handing RunTask exactly what ecs:runTask.sync takes', async () => {
    const recorded = await execute(async () => stopped(0));
    expect(recorded.steps.map((s) => s.step)).toEqual(['prepare', 'complete']);
    expect(recorded.tasks).toEqual([
      {
        Cluster: 'local',
        TaskDefinition: 'local:task-definition/datakit-local-sales-orders:abc',
        LaunchType: 'FARGATE',
        Tags: [{ Key: 'datakit:run-id', Value: runId }],
        NetworkConfiguration: {},
        Overrides: {
          ContainerOverrides: [{ Name: 'transform', Environment: [{ Name: 'DK_RUN_ID', Value: runId }] }],
        },
        PropagateTags: 'TASK_DEFINITION',
      },
    ]);
    expect(recorded.steps[1]?.payload.task).toEqual(stopped(0));
  });

  it('sends a non-zero exit to Fail with the stopped task as the cause, as AWS does', async () => {
    const recorded = await execute(async () => {
      throw named('States.TaskFailed', JSON.stringify(stopped(3)));
    });
    expect(recorded.steps.map((s) => s.step)).toEqual(['prepare', 'fail']);
    expect(recorded.steps[1]?.payload.error).toEqual({
      Error: 'States.TaskFailed',
      Cause: JSON.stringify(stopped(3)),
    });
  });

  it('sends a timeout to Fail as States.Timeout', async () => {
    const recorded = await execute(async () => {
      throw named('States.Timeout', 'the task ran past its timeout');
    });
    expect(recorded.steps.at(-1)?.payload.error).toMatchObject({ Error: 'States.Timeout' });
  });

  it('sends a Prepare refusal to Fail under its code and never starts a task', async () => {
    const recorded = await execute(async () => stopped(0), {
      prepare: () => {
        throw named('DEPLOY_STORE_MISSING', 'Cell local has no store data-lake.');
      },
    });
    expect(recorded.tasks).toEqual([]);
    expect(recorded.steps.map((s) => s.step)).toEqual(['prepare', 'fail']);
    expect(recorded.steps[1]?.payload.error).toEqual({
      Error: 'DEPLOY_STORE_MISSING',
      Cause: 'Cell local has no store data-lake.',
    });
  });

  it('stops the task when the execution is stopped, and runs neither Complete nor Fail', async () => {
    let aborted = false;
    const recorded = await execute(
      (signal) =>
        new Promise<StoppedTask>((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            aborted = true;
            reject(
              named('States.TaskFailed', JSON.stringify({ ...stopped(143), StopCode: 'UserInitiated' })),
            );
          });
        }),
      { cancelAfterMs: 50 },
    );
    expect(aborted).toBe(true);
    expect(recorded.steps.map((s) => s.step)).toEqual(['prepare']);
  });
});
