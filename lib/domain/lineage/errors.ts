/**
 * A graph node's item would pass DynamoDB's 400 KB item limit: a hub dataset read or written by ~5 000 jobs
 * (ADR 0005). Not retryable and not the producer's fault, so it is neither a 503 nor a 4xx: deliberately not a
 * `DataKitError`, it answers a generic 500 and is logged as a failure (`request failed`, with the node id),
 * which the ingestion alarms count, until overflow pages exist.
 */
export class LineageNodeTooLargeError extends Error {
  readonly code = 'LINEAGE_NODE_TOO_LARGE';

  constructor(
    readonly nodeId: string,
    cause: unknown,
  ) {
    super(`The lineage node ${nodeId} is at the item size limit.`, { cause });
    this.name = 'LineageNodeTooLargeError';
  }
}
