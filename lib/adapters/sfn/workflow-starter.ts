import type { SFNClient } from '@aws-sdk/client-sfn';
import type { CellRuntime } from '../../contracts/api/cells.js';
import { UnprocessableError } from '../../domain/errors.js';
import type { WorkflowStarter } from '../../ports/workflow-starter.js';

/** The SDK module on first use: a bundle's static SDK imports all load at init (ADR 0012). */
const sdk = () => import('@aws-sdk/client-sfn');

/** The ARN of the execution named `name` of a state machine (Step Functions derives it this way). */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

function stateMachineOf(runtime: CellRuntime): string {
  if (runtime.kind !== 'ecs') {
    throw new UnprocessableError(
      'CELL_RUNTIME_UNSUPPORTED',
      'This cell runs in embedded mode; start its runs from there.',
    );
  }
  return runtime.stateMachineArn;
}

/** Starts and stops executions of a cell's run state machine; the execution name is the run id. */
export class StepFunctionsWorkflowStarter implements WorkflowStarter {
  constructor(private readonly client: Pick<SFNClient, 'send'>) {}

  async startRun(runtime: CellRuntime, runId: string): Promise<void> {
    const { ExecutionAlreadyExists, StartExecutionCommand } = await sdk();
    try {
      await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: stateMachineOf(runtime),
          name: runId,
          input: JSON.stringify({ runId }),
        }),
      );
    } catch (error) {
      // Same name and input within 90 days is idempotent in Step Functions; a different input is not.
      if (!(error instanceof ExecutionAlreadyExists)) throw error;
    }
  }

  async stopRun(runtime: CellRuntime, runId: string, cause: string): Promise<void> {
    const { ExecutionDoesNotExist, StopExecutionCommand } = await sdk();
    try {
      await this.client.send(
        new StopExecutionCommand({
          executionArn: executionArnOf(stateMachineOf(runtime), runId),
          error: 'RUN_CANCELLED',
          cause: cause.slice(0, 32_000),
        }),
      );
    } catch (error) {
      if (!(error instanceof ExecutionDoesNotExist)) throw error;
    }
  }
}
