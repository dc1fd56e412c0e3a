import { randomUUID } from 'node:crypto';
import {
  type ActionExecutionDetail,
  ApprovalAlreadyCompletedException,
  InvalidApprovalTokenException,
  type ListActionExecutionsCommandInput,
  type PutApprovalResultCommandInput,
  type PutJobFailureResultCommandInput,
  type PutJobSuccessResultCommandInput,
  type StartPipelineExecutionCommandInput,
} from '@aws-sdk/client-codepipeline';
import type { CodePipelineControl } from '../../lib/adapters/codepipeline/control.js';

interface FakeExecution {
  readonly id: string;
  readonly pipelineName: string;
  readonly input: StartPipelineExecutionCommandInput;
  readonly actions: ActionExecutionDetail[];
}

/**
 * A stand-in for CodePipeline's control API (CodePipeline has no local one): it keeps executions, serves
 * ListActionExecutions for them (in pages of `pageSize`, as the real API pages), checks approval tokens
 * as PutApprovalResult does, and records every call. The test moves executions along (`reachApprovals`,
 * `consoleDecision`), as the pipeline would.
 */
export class FakeCodePipeline implements CodePipelineControl {
  readonly executions = new Map<string, FakeExecution>();
  readonly approvalResults: PutApprovalResultCommandInput[] = [];
  readonly jobSuccesses: PutJobSuccessResultCommandInput[] = [];
  readonly jobFailures: PutJobFailureResultCommandInput[] = [];
  /** Calls of PutApprovalResult to fail before the next one succeeds (a CodePipeline outage). */
  failApprovals = 0;

  constructor(private readonly pageSize = 2) {}

  async startPipelineExecution(input: StartPipelineExecutionCommandInput) {
    const existing = [...this.executions.values()].find(
      (execution) => execution.input.clientRequestToken === input.clientRequestToken,
    );
    if (existing !== undefined) return { pipelineExecutionId: existing.id };
    const id = randomUUID();
    const name = input.name ?? '';
    this.executions.set(id, {
      id,
      pipelineName: name,
      input,
      // Actions of earlier stages, which ListActionExecutions lists too.
      actions: [
        this.action(id, 'Request', 'Request', 'Succeeded'),
        this.action(id, 'Validate', 'Validate', 'InProgress'),
      ],
    });
    return { pipelineExecutionId: id };
  }

  /** The execution reaches its Approve stage: one waiting approval action per group, with a token. */
  reachApprovals(executionId: string, groups: readonly string[]): void {
    const execution = this.execution(executionId);
    for (const detail of execution.actions) if (detail.status === 'InProgress') detail.status = 'Succeeded';
    for (const group of groups) {
      execution.actions.push({
        ...this.action(executionId, 'Approve', `Approve-${group}`, 'InProgress'),
        output: { executionResult: { externalExecutionId: `token-${randomUUID()}` } },
      });
    }
  }

  /** Someone approves or rejects in the console, around the API. */
  consoleDecision(executionId: string, actionName: string, status: 'Succeeded' | 'Failed'): void {
    const detail = this.execution(executionId).actions.find((action) => action.actionName === actionName);
    if (detail === undefined) throw new Error(`no action ${actionName}`);
    detail.status = status;
  }

  /** The status of an approval action of an execution. */
  approvalStatus(executionId: string, group: string): string | undefined {
    return this.execution(executionId).actions.find((action) => action.actionName === `Approve-${group}`)
      ?.status;
  }

  async listActionExecutions(input: ListActionExecutionsCommandInput) {
    const id = input.filter?.pipelineExecutionId;
    const all = [...this.executions.values()]
      .filter(
        (execution) =>
          execution.pipelineName === input.pipelineName && (id === undefined || execution.id === id),
      )
      .flatMap((execution) => execution.actions);
    const start = input.nextToken === undefined ? 0 : Number(input.nextToken);
    const size = Math.min(this.pageSize, input.maxResults ?? 100);
    const page = all.slice(start, start + size);
    return {
      actionExecutionDetails: page.map((detail) => structuredClone(detail)),
      ...(start + size < all.length ? { nextToken: String(start + size) } : {}),
    };
  }

  async putApprovalResult(input: PutApprovalResultCommandInput): Promise<void> {
    if (this.failApprovals > 0) {
      this.failApprovals--;
      throw Object.assign(new Error('CodePipeline is unavailable'), { name: 'ServiceUnavailableException' });
    }
    const detail = [...this.executions.values()]
      .filter((execution) => execution.pipelineName === input.pipelineName)
      .flatMap((execution) => execution.actions)
      .find(
        (action) =>
          action.stageName === input.stageName &&
          action.actionName === input.actionName &&
          action.output?.executionResult?.externalExecutionId === input.token,
      );
    if (detail === undefined) {
      throw new InvalidApprovalTokenException({ message: 'The approval token is not valid', $metadata: {} });
    }
    if (detail.status !== 'InProgress') {
      throw new ApprovalAlreadyCompletedException({
        message: 'The approval is already completed',
        $metadata: {},
      });
    }
    detail.status = input.result?.status === 'Approved' ? 'Succeeded' : 'Failed';
    this.approvalResults.push(input);
  }

  async putJobSuccessResult(input: PutJobSuccessResultCommandInput): Promise<void> {
    this.jobSuccesses.push(input);
  }

  async putJobFailureResult(input: PutJobFailureResultCommandInput): Promise<void> {
    this.jobFailures.push(input);
  }

  private execution(id: string): FakeExecution {
    const execution = this.executions.get(id);
    if (execution === undefined) throw new Error(`no execution ${id}`);
    return execution;
  }

  private action(
    executionId: string,
    stageName: string,
    actionName: string,
    status: 'InProgress' | 'Succeeded',
  ): ActionExecutionDetail {
    return {
      pipelineExecutionId: executionId,
      actionExecutionId: randomUUID(),
      stageName,
      actionName,
      status,
    };
  }
}
