import { readFileSync } from 'node:fs';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import {
  localRunDefinition,
  runStateMachineDefinition,
  runStates,
} from '../../../lib/contracts/workflows/run-state-machine.js';
import { classifyFailure, stepErrorSchema } from '../../../lib/domain/runs/runs.js';
import {
  committedMockConfigStateMachines,
  type MockedResponse,
  mockRunId,
  runDefinitionFor,
  runMockConfig,
  runScenarios,
} from '../../../localstack/run-mocks.js';

/**
 * The LocalStack profile's Step Functions mock configuration (localstack/run-mocks.ts): generated from the
 * run state machine's contract, committed as localstack/sfn-mock-config.json, and driving the document to
 * the end each scenario promises, with what the real Complete and Fail steps would record from it.
 */

// The document is plain data; the emulator's types want literal state types, which JSON has not.
const definition: StateMachineDefinition = JSON.parse(JSON.stringify(localRunDefinition()));
const machine = new StateMachine(definition);

/** What a Task state hands on: plain JSON, as Lambda and ECS answers are. */
const jsonSchema = z.json();

/** Prepare's mocked answer: a `lambda:invoke` result whose Payload is the prepared task. */
const preparedResultSchema = z.object({
  StatusCode: z.literal(200),
  Payload: z.object({ cluster: z.string(), taskDefinition: z.string() }),
});

/** A mocked response as a local task handler: the value it returns, or the error Step Functions sees. */
function handlerOf(response: MockedResponse) {
  return async () => {
    if ('Throw' in response) {
      const error = new Error(response.Throw.Cause);
      error.name = response.Throw.Error;
      throw error;
    }
    return response.Return;
  };
}

async function execute(responses: Readonly<Partial<Record<string, MockedResponse>>>) {
  const inputs = new Map<string, unknown>();
  const handlers = Object.fromEntries(
    Object.entries(responses).map(([state, response]) => {
      if (response === undefined) throw new Error(`no response for ${state}`);
      const answer = handlerOf(response);
      return [
        state,
        async (input: unknown) => {
          inputs.set(state, input);
          return jsonSchema.parse(await answer());
        },
      ];
    }),
  );
  const outcome = await machine
    .run({ runId: mockRunId }, { overrides: { taskResourceLocalHandlers: handlers } })
    .result.then(
      () => 'SUCCEEDED' as const,
      () => 'FAILED' as const,
    );
  return { outcome, inputs };
}

describe("the LocalStack profile's Step Functions mocks", () => {
  it('are committed as generated (regenerate with npx tsx localstack/run-mocks.ts mock-config)', () => {
    const committed: unknown = JSON.parse(
      readFileSync(new URL('../../../localstack/sfn-mock-config.json', import.meta.url), 'utf8'),
    );
    expect(committedMockConfigStateMachines).toEqual(['local-datakit-local-runs']);
    expect(committed).toEqual(runMockConfig(committedMockConfigStateMachines));
  });

  it('answer only Task states of the deployed document, every Task state in some scenario', () => {
    const states: Record<string, { Type: string }> = runStateMachineDefinition.States;
    const mocked = new Set(runScenarios.flatMap((scenario) => Object.keys(scenario.responses)));
    for (const state of mocked) expect(states[state]?.Type).toBe('Task');
    const taskStates = Object.entries(states).filter(([, state]) => state.Type === 'Task');
    expect([...mocked].sort()).toEqual(taskStates.map(([name]) => name).sort());
  });

  it('name each test case once and keep every response under one name', () => {
    const config = runMockConfig(['a', 'b']);
    expect(Object.keys(config.StateMachines)).toEqual(['a', 'b']);
    const names = runScenarios.map((scenario) => scenario.name);
    expect(new Set(names).size).toBe(names.length);
    const referenced = Object.values(config.StateMachines.a?.TestCases ?? {}).flatMap((testCase) =>
      Object.values(testCase),
    );
    expect(referenced.sort()).toEqual(Object.keys(config.MockedResponses).sort());
  });

  it('substitute the run-steps function into the document as deployed, and nothing else', () => {
    const document = JSON.parse(runDefinitionFor('arn:aws:lambda:us-east-1:000000000000:function:rs'));
    expect(JSON.stringify(document)).not.toContain('${');
    expect(document.States[runStates.prepare].Parameters.FunctionName).toBe(
      'arn:aws:lambda:us-east-1:000000000000:function:rs',
    );
    expect(document.States[runStates.runTask].TimeoutSecondsPath).toBe('$.prepared.task.timeoutSeconds');
  });

  for (const scenario of runScenarios) {
    it(`drive the document to ${scenario.execution} and the run to ${scenario.run}: ${scenario.name}`, async () => {
      const { outcome, inputs } = await execute(scenario.responses);
      expect(outcome).toBe(scenario.execution);
      // What the real step that ends the run receives, and what it would record from it.
      if (scenario.run === 'SUCCEEDED') {
        expect(inputs.get(runStates.complete)).toMatchObject({
          Payload: { step: 'complete', runId: mockRunId, task: { Containers: [{ ExitCode: 0 }] } },
        });
        expect(inputs.has(runStates.fail)).toBe(false);
        return;
      }
      const failInput = z
        .object({ Payload: z.object({ step: z.literal('fail'), runId: z.string(), error: stepErrorSchema }) })
        .parse(inputs.get(runStates.fail));
      const event = classifyFailure(failInput.Payload.error, '2026-05-01T10:02:00.000Z');
      expect(event.type === 'timed-out' ? 'TIMED_OUT' : event.type === 'failed' ? 'FAILED' : event.type).toBe(
        scenario.run,
      );
      expect(inputs.has(runStates.complete)).toBe(false);
      const prepared = scenario.responses[runStates.prepare];
      if (prepared !== undefined && 'Return' in prepared) {
        // RunTask got exactly what Prepare handed it, through the document's paths.
        const task = preparedResultSchema.parse(prepared.Return).Payload;
        expect(inputs.get(runStates.runTask)).toMatchObject({
          Cluster: task.cluster,
          TaskDefinition: task.taskDefinition,
          Tags: [{ Key: 'datakit:run-id', Value: mockRunId }],
        });
      }
    });
  }

  it('fail a non-zero exit with its exit code and a refusal with its own code', async () => {
    const codes = new Map<string, unknown>();
    for (const scenario of runScenarios.filter((one) => one.run === 'FAILED')) {
      const { inputs } = await execute(scenario.responses);
      const payload = z
        .object({ Payload: z.object({ error: stepErrorSchema }) })
        .parse(inputs.get(runStates.fail));
      const event = classifyFailure(payload.Payload.error, '2026-05-01T10:02:00.000Z');
      codes.set(scenario.name, event.type === 'failed' ? [event.error.code, event.exitCode] : event.type);
    }
    expect(Object.fromEntries(codes)).toEqual({
      ExitedNonZero: ['RUN_EXIT_NONZERO', 3],
      Refused: ['DEPLOY_STORE_MISSING', undefined],
    });
  });
});
