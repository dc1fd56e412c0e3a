import type {
  CodePipelineClient,
  ListActionExecutionsCommandInput,
  ListActionExecutionsCommandOutput,
  PutApprovalResultCommandInput,
  PutJobFailureResultCommandInput,
  PutJobSuccessResultCommandInput,
  StartPipelineExecutionCommandInput,
  StartPipelineExecutionCommandOutput,
} from '@aws-sdk/client-codepipeline';

/**
 * The CodePipeline control API calls the promotion adapters make, as SDK inputs and outputs. CodePipeline
 * has no local stand-in, so this is the seam a test fake takes the place of (it records the calls and
 * serves executions); `codePipelineControl` is the real one, one SDK command per method.
 */
export interface CodePipelineControl {
  startPipelineExecution(
    input: StartPipelineExecutionCommandInput,
  ): Promise<Pick<StartPipelineExecutionCommandOutput, 'pipelineExecutionId'>>;
  listActionExecutions(
    input: ListActionExecutionsCommandInput,
  ): Promise<Pick<ListActionExecutionsCommandOutput, 'actionExecutionDetails' | 'nextToken'>>;
  putApprovalResult(input: PutApprovalResultCommandInput): Promise<void>;
  putJobSuccessResult(input: PutJobSuccessResultCommandInput): Promise<void>;
  putJobFailureResult(input: PutJobFailureResultCommandInput): Promise<void>;
}

/** The control API through the SDK client (commands imported with it, on first use). */
export async function codePipelineControl(client: CodePipelineClient): Promise<CodePipelineControl> {
  const {
    ListActionExecutionsCommand,
    PutApprovalResultCommand,
    PutJobFailureResultCommand,
    PutJobSuccessResultCommand,
    StartPipelineExecutionCommand,
  } = await import('@aws-sdk/client-codepipeline');
  return {
    startPipelineExecution: (input) => client.send(new StartPipelineExecutionCommand(input)),
    listActionExecutions: (input) => client.send(new ListActionExecutionsCommand(input)),
    putApprovalResult: async (input) => {
      await client.send(new PutApprovalResultCommand(input));
    },
    putJobSuccessResult: async (input) => {
      await client.send(new PutJobSuccessResultCommand(input));
    },
    putJobFailureResult: async (input) => {
      await client.send(new PutJobFailureResultCommand(input));
    },
  };
}
