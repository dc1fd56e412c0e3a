import './promise-with-resolvers.js';
import type { Logger } from '@aws-lambda-powertools/logger';
import { StateMachine } from 'aws-local-stepfunctions';
import * as z from 'zod';
import type { CellRuntime } from '../../contracts/api/cells.js';
import { localRunDefinition, runStates } from '../../contracts/workflows/run-state-machine.js';
import type { StoppedTask } from '../../ports/task-control.js';
import type { WorkflowStarter } from '../../ports/workflow-starter.js';

/** What the embedded mode plugs into the run state machine's Task states. */
export interface LocalRunHandlers {
  /** The `run-steps` function: Prepare, Complete and Fail (the Lambda payload in, its result out). */
  readonly step: (payload: unknown) => Promise<unknown>;
  /** The ECS task: RunTask's Parameters in, the stopped task out (or `States.TaskFailed` / `States.Timeout`). */
  readonly runTask: (parameters: Record<string, unknown>, signal: AbortSignal) => Promise<StoppedTask>;
}

/** Validating the document takes ~2 s: every LocalWorkflows of this process shares one machine. */
let sharedMachine: StateMachine | undefined;
const runMachine = (): StateMachine => {
  sharedMachine ??= new StateMachine(localRunDefinition(), {});
  return sharedMachine;
};

interface Execution {
  readonly controller: AbortController;
  readonly abort: () => void;
  readonly done: Promise<void>;
}

const payloadOf = (input: unknown): unknown =>
  typeof input === 'object' && input !== null && 'Payload' in input ? input.Payload : undefined;

const jsonSchema = z.json();
/** A value as the emulator passes it between states: plain JSON (what Lambda and ECS would return). */
const asJson = (value: unknown) => jsonSchema.parse(JSON.parse(JSON.stringify(value ?? null)));
const parametersSchema = z.record(z.string(), z.unknown());

/**
 * Runs each cell's run state machine in this process with aws-local-stepfunctions: the same ASL document
 * as AWS (after `localRunDefinition`), its Lambda states calling the run steps directly and its ECS
 * state calling the local runner. One execution per run id, like Step Functions' execution names.
 */
export class LocalWorkflows implements WorkflowStarter {
  private readonly machine = runMachine();
  private readonly executions = new Map<string, Execution>();

  constructor(
    private readonly handlers: LocalRunHandlers,
    private readonly logger: Logger,
  ) {}

  async startRun(_runtime: CellRuntime, runId: string): Promise<void> {
    if (this.executions.has(runId)) return;
    const controller = new AbortController();
    const step = async (input: unknown) => asJson({ Payload: await this.handlers.step(payloadOf(input)) });
    const execution = this.machine.run(
      { runId },
      {
        noThrowOnAbort: true,
        overrides: {
          taskResourceLocalHandlers: {
            [runStates.prepare]: step,
            [runStates.complete]: step,
            [runStates.fail]: step,
            [runStates.runTask]: async (parameters: unknown) =>
              asJson(await this.handlers.runTask(parametersSchema.parse(parameters), controller.signal)),
          },
        },
      },
    );
    const done = execution.result.then(
      () => undefined,
      (error: unknown) => {
        // The Fail state ends every failed run's execution as failed: that is the run's outcome, already
        // recorded by the Fail step, not an error of this process.
        if (!(error instanceof Error && /RunFailed|failed with the following error/u.test(error.message))) {
          this.logger.error('run execution failed', { runId, error });
        }
      },
    );
    this.executions.set(runId, { controller, abort: execution.abort, done });
    void done.finally(() => this.executions.delete(runId));
  }

  async stopRun(_runtime: CellRuntime, runId: string, cause: string): Promise<void> {
    const execution = this.executions.get(runId);
    if (execution === undefined) return;
    execution.controller.abort(cause);
    execution.abort();
  }

  /** Runs still executing (their ids). */
  running(): string[] {
    return [...this.executions.keys()];
  }

  /** Waits until every execution has ended. */
  async drain(): Promise<void> {
    await Promise.all([...this.executions.values()].map((execution) => execution.done));
  }
}
