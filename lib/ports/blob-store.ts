/**
 * Storage for payloads too large for a table item (raw lineage events over ~350 KB): S3 in AWS, a
 * directory in embedded mode. Keys are deterministic, so a retried put writes the same object again.
 */
export interface BlobStore {
  /** Stores `body` under `key`, replacing what was there. */
  put(key: string, body: string): Promise<void>;
  /** The body stored under `key`; `undefined` when there is none. */
  get(key: string): Promise<string | undefined>;
}
