import type { AuditOutcome, AuditQuery, AuditRecordView } from '../contracts/api/access.js';

/**
 * One entry a use case appends to the audit trail; its id is deterministic, so a retry writes it once.
 * Within an API request made by the same actor it becomes part of that request's record (ADR 0018).
 */
export interface AuditRecord {
  readonly id: string;
  readonly at: string;
  /** `<capability>.<what happened>`, e.g. `promotion.override`. */
  readonly action: string;
  /** `package:{ns}/{name}`, `promotion:{id}`, …: what it is about. */
  readonly subject: string;
  /** Who caused it: a principal, or a component (`pipeline`, `trigger-resolver`, `ecr`). */
  readonly actor: string;
  readonly details: Readonly<Record<string, unknown>>;
  /** @default 'succeeded' */
  readonly outcome?: AuditOutcome;
}

/** The audit trail as use cases write it. */
export interface AuditLog {
  /** Appends an entry unless one with its id exists. */
  append(entry: AuditRecord): Promise<void>;
}

/** A record of the trail as stored and listed (`GET /v1/audit`). */
export type StoredAuditRecord = AuditRecordView;

/** A page of the trail, newest first. */
export interface AuditPage {
  readonly items: StoredAuditRecord[];
  readonly nextCursor?: string;
}

/** Where records are kept: written once, never changed, listed newest first. */
export interface AuditStore {
  /** Writes the record unless one with its key exists (a retried write is one record). */
  write(record: StoredAuditRecord): Promise<void>;
  list(query: AuditQuery): Promise<AuditPage>;
}
