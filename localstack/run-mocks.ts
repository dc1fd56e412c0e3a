import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  localRunStepsFunctionArn,
  runStateMachineAsl,
  runStates,
  runStepsFunctionSubstitution,
  transformContainerName,
} from '../lib/contracts/workflows/run-state-machine.js';
import type { PreparedTask } from '../lib/domain/runs/runs.js';
import type { StoppedTask } from '../lib/ports/task-control.js';
import { runStateMachineName } from '../stacks/constructs/run-state-machine.js';

/**
 * The run state machine in LocalStack community, where ECS is a paid feature: Step Functions' mocked
 * service integrations (`SFN_MOCK_CONFIG`, LocalStack ≥ 4.x community) answer its Task states, so the
 * document as deployed (`runStateMachineAsl()`) is executed by LocalStack's interpreter. Everything here
 * derives from the contract (state names, the container name, what Prepare and `ecs:runTask.sync` return):
 * rename a state and the configuration follows. Usage in localstack/README.md.
 *
 * The Lambda states are mocked too: the run-steps function is deployed, but Prepare registers an ECS task
 * definition and Fail stops ECS tasks, which community LocalStack cannot do.
 */

/** The run id every scenario's execution is started with (`{"runId": …}`). */
export const mockRunId = '0f0c2b7e-5a61-4c39-8d3e-6c2f4f1a9b00';

/** A mocked answer of one Task state: what the integration returns, or the error it fails with. */
export type MockedResponse =
  | { readonly Return: unknown }
  | { readonly Throw: { readonly Error: string; readonly Cause: string } };

type TaskStateName = (typeof runStates)[Exclude<keyof typeof runStates, 'failed'>];

/** One test case: start an execution of `<state machine ARN>#<name>` with {@link mockRunId}. */
export interface RunScenario {
  readonly name: string;
  readonly description: string;
  /** The mocked answer of each Task state the execution reaches. */
  readonly responses: Readonly<Partial<Record<TaskStateName, MockedResponse>>>;
  /** How the execution ends. */
  readonly execution: 'SUCCEEDED' | 'FAILED';
  /** The run's status the real Complete or Fail step records from what it receives here. */
  readonly run: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';
}

const account = '000000000000';
const region = 'us-east-1';
const taskArn = `arn:aws:ecs:${region}:${account}:task/datakit-local/5f0e6c1a2b3d4e5f60718293a4b5c6d7`;

/** What Prepare hands RunTask for a Transform of cell `local` (ECS runtime, one subnet, no public IP). */
const prepared: PreparedTask = {
  cluster: `arn:aws:ecs:${region}:${account}:cluster/datakit-local`,
  taskDefinition: `arn:aws:ecs:${region}:${account}:task-definition/datakit-local-sales-report:1`,
  networkConfiguration: {
    AwsvpcConfiguration: {
      Subnets: ['subnet-0a1b2c3d4e5f60718'],
      SecurityGroups: ['sg-0a1b2c3d4e5f60718'],
      AssignPublicIp: 'DISABLED',
    },
  },
  overrides: {
    ContainerOverrides: [
      {
        Name: transformContainerName,
        Environment: [
          { Name: 'DK_RUN_ID', Value: mockRunId },
          { Name: 'DK_ENV', Value: 'dev' },
        ],
      },
    ],
  },
  timeoutSeconds: 600,
};

/** The task as `ecs:runTask.sync` describes it once stopped (DescribeTasks, PascalCase). */
const stoppedTask = (exitCode: number): StoppedTask => ({
  TaskArn: taskArn,
  Containers: [{ Name: transformContainerName, ExitCode: exitCode }],
  StartedAt: '2026-05-01T10:00:05.000Z',
  StoppedAt: '2026-05-01T10:01:05.000Z',
  StopCode: 'EssentialContainerExited',
  StoppedReason: 'Essential container in task exited',
});

/** A `lambda:invoke` integration's answer: the function's result is its `Payload`. */
const invoked = (payload: unknown): MockedResponse => ({ Return: { StatusCode: 200, Payload: payload } });
const stepResult = (status: RunScenario['run']) => invoked({ runId: mockRunId, status });

export const runScenarios: readonly RunScenario[] = [
  {
    name: 'Succeeded',
    description: 'the Transform exits 0: Complete receives the stopped task',
    responses: {
      [runStates.prepare]: invoked(prepared),
      [runStates.runTask]: { Return: stoppedTask(0) },
      [runStates.complete]: stepResult('SUCCEEDED'),
    },
    execution: 'SUCCEEDED',
    run: 'SUCCEEDED',
  },
  {
    name: 'ExitedNonZero',
    description: 'the Transform exits 3: Fail receives States.TaskFailed with the stopped task as cause',
    responses: {
      [runStates.prepare]: invoked(prepared),
      [runStates.runTask]: {
        Throw: { Error: 'States.TaskFailed', Cause: JSON.stringify(stoppedTask(3)) },
      },
      [runStates.fail]: stepResult('FAILED'),
    },
    execution: 'FAILED',
    run: 'FAILED',
  },
  {
    name: 'TimedOut',
    description:
      'the task outlives spec.timeout (TimeoutSecondsPath from Prepare): Fail receives States.Timeout',
    responses: {
      [runStates.prepare]: invoked(prepared),
      [runStates.runTask]: { Throw: { Error: 'States.Timeout', Cause: 'The task timed out.' } },
      [runStates.fail]: stepResult('TIMED_OUT'),
    },
    execution: 'FAILED',
    run: 'TIMED_OUT',
  },
  {
    name: 'Refused',
    description: 'Prepare refuses (a Store the cell lacks): Fail receives the refusal by its code',
    responses: {
      [runStates.prepare]: {
        Throw: {
          Error: 'DEPLOY_STORE_MISSING',
          Cause: JSON.stringify({
            errorType: 'DEPLOY_STORE_MISSING',
            errorMessage: 'Cell local has no Store warehouse; sales/report needs it.',
          }),
        },
      },
      [runStates.fail]: stepResult('FAILED'),
    },
    execution: 'FAILED',
    run: 'FAILED',
  },
];

/** LocalStack's mock configuration (the AWS Step Functions Local format) for the named state machines. */
export function runMockConfig(stateMachineNames: readonly string[]) {
  const testCases = Object.fromEntries(
    runScenarios.map((scenario) => [
      scenario.name,
      Object.fromEntries(Object.keys(scenario.responses).map((state) => [state, `${scenario.name}${state}`])),
    ]),
  );
  const mockedResponses = Object.fromEntries(
    runScenarios.flatMap((scenario) =>
      Object.entries(scenario.responses).map(([state, response]) => [
        `${scenario.name}${state}`,
        { '0': response },
      ]),
    ),
  );
  return {
    StateMachines: Object.fromEntries(stateMachineNames.map((name) => [name, { TestCases: testCases }])),
    MockedResponses: mockedResponses,
  };
}

/** The document as CloudFormation would deploy it: the ASL with its one substitution made. */
export function runDefinitionFor(runStepsFunctionArn: string): string {
  return runStateMachineAsl().replaceAll(`\${${runStepsFunctionSubstitution}}`, runStepsFunctionArn);
}

/** The file next to docker-compose.yml, mounted as `SFN_MOCK_CONFIG`: stage `local`, cell `local`. */
export const committedMockConfigStateMachines = [runStateMachineName('local', 'local')];

export function mockConfigText(stateMachineNames: readonly string[]): string {
  return `${JSON.stringify(runMockConfig(stateMachineNames), null, 2)}\n`;
}

const usage = `usage: npx tsx localstack/run-mocks.ts <command>
  mock-config [--stage s] [--cell c]...   the SFN_MOCK_CONFIG file (default: stage local, cell local)
  definition [--run-steps-arn arn]        the run state machine document with the function ARN substituted
  name [--stage s] [--cell c]             the cell's state machine name
  input                                   the execution input of every scenario
  scenarios                               one line per scenario: <test case> <expected execution status>
`;

function option(args: readonly string[], flag: string): string[] {
  return args.flatMap((arg, index) =>
    arg === flag && args[index + 1] !== undefined ? [args[index + 1] ?? ''] : [],
  );
}

function main(args: readonly string[]): number {
  const [command, ...rest] = args;
  const stage = option(rest, '--stage')[0] ?? 'local';
  const cells = option(rest, '--cell');
  const names = (cells.length === 0 ? ['local'] : cells).map((cell) => runStateMachineName(stage, cell));
  switch (command) {
    case 'mock-config':
      process.stdout.write(mockConfigText(names));
      return 0;
    case 'definition':
      // A mocked state never invokes its function: any ARN does unless a state is left unmocked.
      process.stdout.write(runDefinitionFor(option(rest, '--run-steps-arn')[0] ?? localRunStepsFunctionArn));
      return 0;
    case 'name':
      process.stdout.write(`${names[0]}\n`);
      return 0;
    case 'input':
      process.stdout.write(`${JSON.stringify({ runId: mockRunId })}\n`);
      return 0;
    case 'scenarios':
      for (const scenario of runScenarios) process.stdout.write(`${scenario.name} ${scenario.execution}\n`);
      return 0;
    default:
      process.stderr.write(usage);
      return 2;
  }
}

const script = process.argv[1];
if (script !== undefined && import.meta.url === pathToFileURL(resolve(script)).href) {
  process.exitCode = main(process.argv.slice(2));
}
