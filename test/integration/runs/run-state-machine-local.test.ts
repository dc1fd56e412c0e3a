import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalTasks } from '../../../lib/adapters/local/local-tasks.js';
import { localRunDefinition, runStates } from '../../../lib/contracts/workflows/run-state-machine.js';
import type { StoppedTask, TaskDefinitionSpec } from '../../../lib/ports/task-control.js';
import { contentLayerSource, nodeTaskSpec, temporaryDataDir } from '../../support/local-runner.js';

/**
 * The local runner as the RunTask state of the embedded mode's run state machine: what the Complete and
 * Fail steps receive must be what they receive from `ecs:runTask.sync` in AWS.
 */

// The document is plain data; the emulator's types want literal state types, which JSON has not.
const definition: StateMachineDefinition = JSON.parse(JSON.stringify(localRunDefinition()));
// Validating the document takes the emulator a second or more: once per file.
const machine = new StateMachine(definition);

let dataDir: string;
let removeDataDir: () => Promise<void>;
let tasks: LocalTasks;

beforeEach(async () => {
  ({ dataDir, remove: removeDataDir } = await temporaryDataDir());
  tasks = new LocalTasks({
    dataDir,
    fetchContentLayer: contentLayerSource().fetch,
    resolveSecret: async () => '',
  });
});
afterEach(async () => {
  await tasks.close();
  await removeDataDir();
});

async function execute(spec: TaskDefinitionSpec) {
  const taskDefinition = await tasks.registerTaskDefinition(spec);
  const steps: { complete?: unknown; fail?: unknown } = {};
  const execution = machine.run(
    { runId: '7d1f8a52-3c1e-4f7b-9a51-2b0c6c1e0a11' },
    {
      overrides: {
        taskResourceLocalHandlers: {
          [runStates.prepare]: () => ({
            Payload: {
              cluster: 'local',
              taskDefinition,
              networkConfiguration: {},
              overrides: {
                ContainerOverrides: [{ Name: 'transform', Environment: [{ Name: 'X', Value: '1' }] }],
              },
              timeoutSeconds: spec.timeoutSeconds,
            },
          }),
          [runStates.runTask]: async (input) => JSON.parse(JSON.stringify(await tasks.run(input))),
          [runStates.complete]: (input) => {
            steps.complete = input;
            return { Payload: {} };
          },
          [runStates.fail]: (input) => {
            steps.fail = input;
            return { Payload: {} };
          },
        },
      },
    },
  );
  const outcome = await execution.result.then(
    () => 'succeeded',
    (error: unknown) => (error instanceof Error ? error.name : 'failed'),
  );
  return { outcome, ...steps };
}

describe('the local runner in the run state machine', () => {
  it('hands Complete the stopped task when the Transform exits 0', async () => {
    const { outcome, complete, fail } = await execute(nodeTaskSpec('process.exit(0)'));

    expect(outcome).toBe('succeeded');
    expect(fail).toBeUndefined();
    expect(complete).toMatchObject({
      Payload: {
        step: 'complete',
        task: {
          StartedBy: '7d1f8a52-3c1e-4f7b-9a51-2b0c6c1e0a11',
          Containers: [{ Name: 'transform', ExitCode: 0 }],
        },
      },
    });
  });

  it('hands Fail States.TaskFailed with the stopped task as cause when the Transform exits non-zero', async () => {
    const { outcome, complete, fail } = await execute(nodeTaskSpec('process.exit(3)'));

    expect(outcome).not.toBe('succeeded');
    expect(complete).toBeUndefined();
    const error = (fail as { Payload: { error: { Error: string; Cause: string } } }).Payload.error;
    expect(error.Error).toBe('States.TaskFailed');
    expect((JSON.parse(error.Cause) as StoppedTask).Containers).toEqual([{ Name: 'transform', ExitCode: 3 }]);
  });

  it('hands Fail States.Timeout when the Transform outlives spec.timeout', async () => {
    const { fail } = await execute(nodeTaskSpec('setInterval(() => {}, 1000)', { timeoutSeconds: 1 }));

    expect((fail as { Payload: { error: { Error: string } } }).Payload.error.Error).toBe('States.Timeout');
  });
});
