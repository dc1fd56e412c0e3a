import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export interface DynamoDbClientOptions {
  /** A DynamoDB-compatible endpoint (the embedded server); AWS's regional endpoint when absent. */
  readonly endpoint?: string;
  readonly region?: string;
}

/** One client per process; local endpoints get static dummy credentials so no AWS lookup happens. */
export function createDynamoDbClient(options: DynamoDbClientOptions = {}): DynamoDBClient {
  if (options.endpoint === undefined) {
    return new DynamoDBClient(options.region === undefined ? {} : { region: options.region });
  }
  return new DynamoDBClient({
    endpoint: options.endpoint,
    region: options.region ?? 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 3,
  });
}
