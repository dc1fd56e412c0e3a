import {
  approvalActionName,
  approvalActionPrefix,
  approvalStageName,
  governanceVariable,
  maxGovernanceNoteLength,
  promotionIdVariable,
  promotionRequestKey,
  requestActionName,
} from '../../contracts/promotion-pipeline.js';
import type { BlobStore } from '../../ports/blob-store.js';
import type { PromotionRecord } from '../../ports/deployment-store.js';
import type { PipelineExecution, PromotionPipeline } from '../../ports/promotion-pipeline.js';
import type { CodePipelineControl } from './control.js';

/** The SDK module on first use: a bundle's static SDK imports all load at init (ADR 0012). */
const sdk = () => import('@aws-sdk/client-codepipeline');

/** Pages of action executions read before giving up on finding an approval action (100 each). */
const maxPages = 20;

/** What the approval notifications say about the PII gate (the `GOVERNANCE` variable). */
export function governanceNote(promotion: PromotionRecord): string {
  const governance = promotion.governance;
  if (governance === undefined) return 'not checked (environment not governed)';
  if (governance.override === undefined) return 'checked, no PII flow below confidential';
  const reached = governance.violations.map((v) => `${v.dataset.namespace}/${v.dataset.name}`).join(', ');
  const note = `OVERRIDE, needs security: PII would reach ${reached} (below confidential); reason: ${governance.override.reason}`;
  return note.length <= maxGovernanceNoteLength ? note : `${note.slice(0, maxGovernanceNoteLength - 1)}…`;
}

/**
 * The promotion pipelines in AWS: one CodePipeline V2 pipeline per environment with approvals, in PARALLEL
 * execution mode so promotions of different packages proceed independently. A start writes the request to
 * S3 (the source object, `requests/{env}/{id}.json`) and starts an execution on that object with the
 * promotion id as a pipeline variable. Recorded decisions are handed to the approval actions of that
 * execution — in PARALLEL mode an action's token is its `externalExecutionId` from ListActionExecutions
 * (GetPipelineState shows only one execution).
 */
export class CodePipelinePromotionPipeline implements PromotionPipeline {
  constructor(
    private readonly control: CodePipelineControl,
    private readonly requests: BlobStore,
    /** The pipeline of each environment with approvals (`PROMOTION_PIPELINES`). */
    private readonly pipelines: Readonly<Record<string, string>>,
  ) {}

  async start(promotion: PromotionRecord): Promise<PipelineExecution> {
    const name = this.pipelineOf(promotion.env);
    const key = promotionRequestKey(promotion.env, promotion.id);
    const { revision: _revision, ...request } = promotion;
    await this.requests.put(key, JSON.stringify(request));
    const started = await this.control.startPipelineExecution({
      name,
      // The promotion id as the idempotency token: a repeated start is the same execution.
      clientRequestToken: promotion.id,
      variables: [
        { name: promotionIdVariable, value: promotion.id },
        { name: governanceVariable, value: governanceNote(promotion) },
      ],
      sourceRevisions: [{ actionName: requestActionName, revisionType: 'S3_OBJECT_KEY', revisionValue: key }],
    });
    if (started.pipelineExecutionId === undefined) {
      throw new Error(`CodePipeline started ${name} without an execution id`);
    }
    return { name, executionId: started.pipelineExecutionId };
  }

  async syncDecisions(promotion: PromotionRecord): Promise<void> {
    const execution = promotion.pipeline;
    if (execution === undefined) return;
    const rejection = promotion.approvals.find((approval) => approval.decision === 'reject');
    const required = new Set(promotion.requiredApprovals.map((r) => r.group));
    for (const waiting of await this.waitingApprovals(execution.name, execution.executionId)) {
      const group = waiting.actionName.slice(approvalActionPrefix.length);
      const approval = promotion.approvals.find(
        (candidate) =>
          candidate.decision === 'approve' && approvalActionName(candidate.group) === waiting.actionName,
      );
      const decision = rejection ?? approval;
      // A governed environment's pipeline has a security action that only a governance override needs;
      // any other promotion passes it here. The Guard stage checks the recorded approvals, never these.
      const notRequired = decision === undefined && !required.has(group);
      if (decision === undefined && !notRequired) continue;
      const result =
        decision === undefined
          ? {
              status: 'Approved' as const,
              summary: `Not required: promotion ${promotion.id} needs no approval of ${group} (no governance override)`,
            }
          : {
              status: decision.decision === 'approve' ? ('Approved' as const) : ('Rejected' as const),
              summary: `${decision.decision === 'approve' ? 'Approved' : 'Rejected'} by ${decision.person} (${decision.group}) through the DataKit API, promotion ${promotion.id}`,
            };
      try {
        await this.control.putApprovalResult({
          pipelineName: execution.name,
          stageName: approvalStageName,
          actionName: waiting.actionName,
          token: waiting.token,
          result: { status: result.status, summary: result.summary.slice(0, 512) },
        });
      } catch (error) {
        // Taken meanwhile by a concurrent sync of the same decisions.
        if (!(error instanceof (await sdk()).ApprovalAlreadyCompletedException)) throw error;
      }
    }
  }

  /** The approval actions of an execution waiting for a decision, with their tokens. */
  private async waitingApprovals(
    pipelineName: string,
    executionId: string,
  ): Promise<{ actionName: string; token: string }[]> {
    const waiting: { actionName: string; token: string }[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      const listed = await this.control.listActionExecutions({
        pipelineName,
        filter: { pipelineExecutionId: executionId },
        maxResults: 100,
        ...(nextToken === undefined ? {} : { nextToken }),
      });
      for (const detail of listed.actionExecutionDetails ?? []) {
        const token = detail.output?.executionResult?.externalExecutionId;
        if (
          detail.stageName === approvalStageName &&
          detail.actionName?.startsWith(approvalActionPrefix) === true &&
          detail.status === 'InProgress' &&
          token !== undefined
        ) {
          waiting.push({ actionName: detail.actionName, token });
        }
      }
      nextToken = listed.nextToken;
      if (nextToken === undefined) break;
    }
    return waiting;
  }

  private pipelineOf(env: string): string {
    const name = this.pipelines[env];
    if (name === undefined) throw new Error(`no promotion pipeline is deployed for environment ${env}`);
    return name;
  }
}
