import { Logger } from '@aws-lambda-powertools/logger';
import {
  applyCellRecordRequest,
  failedCellRecordId,
} from '../../lib/adapters/cloudformation/cell-record-resource.js';
import {
  type CustomResourceOutcome,
  type CustomResourceResponse,
  customResourceRequestSchema,
  customResourceResponse,
  sendCustomResourceResponse,
} from '../../lib/adapters/cloudformation/custom-resource.js';
import { createDynamoDbClient } from '../../lib/adapters/dynamodb/client.js';
import { SingleTable } from '../../lib/adapters/dynamodb/single-table.js';
import { StackCellRecords } from '../../lib/adapters/dynamodb/stack-cell-records.js';
import { loadConfig } from '../../lib/runtime/config.js';

export interface CellRecordDependencies {
  readonly records: StackCellRecords;
  readonly logger: Logger;
  /** Delivers the response to CloudFormation. */
  readonly send: (responseUrl: string, response: CustomResourceResponse) => Promise<void>;
}

/** Thrown for an event that is not a custom-resource request: there is no URL to answer it at. */
export class NotACustomResourceRequestError extends Error {
  constructor() {
    super('the event is not a CloudFormation custom resource request');
    this.name = 'NotACustomResourceRequestError';
  }
}

/**
 * The `Custom::DataKitCell` resource of a cell stack, which CloudFormation invokes directly: parse the
 * request → write or delete the cell record → answer CloudFormation, a failure included, so a stack never
 * waits for an answer that will not come.
 */
export function createCellRecordHandler(deps: CellRecordDependencies): (event: unknown) => Promise<void> {
  return async (event) => {
    const parsed = customResourceRequestSchema.safeParse(event);
    if (!parsed.success) {
      deps.logger.error('not a custom resource request', { issues: parsed.error.issues });
      throw new NotACustomResourceRequestError();
    }
    const request = parsed.data;
    let outcome: CustomResourceOutcome;
    try {
      outcome = await applyCellRecordRequest(deps.records, request);
    } catch (error) {
      deps.logger.error('cell record request failed', { requestType: request.RequestType, error });
      outcome = {
        status: 'FAILED',
        physicalResourceId: failedCellRecordId(request),
        reason: `the cell record could not be written: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
    deps.logger.info('cell record request', {
      requestType: request.RequestType,
      status: outcome.status,
      physicalResourceId: outcome.physicalResourceId,
      ...(outcome.status === 'FAILED' ? { reason: outcome.reason } : {}),
    });
    await deps.send(request.ResponseURL, customResourceResponse(request, outcome));
  };
}

let instance: ((event: unknown) => Promise<void>) | undefined;
export const handler = async (event: unknown): Promise<void> => {
  if (instance === undefined) {
    const config = loadConfig();
    const client = createDynamoDbClient({
      ...(config.DYNAMODB_ENDPOINT === undefined ? {} : { endpoint: config.DYNAMODB_ENDPOINT }),
      ...(config.AWS_REGION === undefined ? {} : { region: config.AWS_REGION }),
    });
    instance = createCellRecordHandler({
      records: new StackCellRecords(new SingleTable(client, config.TABLE_NAME)),
      logger: new Logger({ serviceName: 'datakit', logLevel: config.LOG_LEVEL }),
      send: sendCustomResourceResponse,
    });
  }
  return instance(event);
};
