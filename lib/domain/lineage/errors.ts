/**
 * A lineage item would pass DynamoDB's 400 KB item limit: a hub dataset read or written by ~5 000 jobs (ADR
 * 0005), or a record concurrent events grew past its budget after the ingestion's plan checked it (the plan
 * refuses events whose records do not fit with a 400 before writing). Not retryable and not the producer's
 * fault, so it is neither a 503 nor a 4xx: deliberately not a `DataKitError`, it answers a generic 500 and is
 * logged as a failure (`request failed`, with the item id), which the ingestion alarms count.
 */
export class LineageNodeTooLargeError extends Error {
  readonly code = 'LINEAGE_NODE_TOO_LARGE';

  constructor(
    /** The node id, or the run id of a run item. */
    readonly nodeId: string,
    cause: unknown,
  ) {
    super(`The lineage item ${nodeId} is at the item size limit.`, { cause });
    this.name = 'LineageNodeTooLargeError';
  }
}
