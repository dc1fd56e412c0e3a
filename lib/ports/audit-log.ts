/** One entry of the append-only audit trail; its id is deterministic, so a retry writes it once. */
export interface AuditRecord {
  readonly id: string;
  readonly at: string;
  /** `<capability>.<what happened>`, e.g. `promotion.override`. */
  readonly action: string;
  /** `package:{ns}/{name}`, `promotion:{id}`, …: what it is about. */
  readonly subject: string;
  /** Who caused it: a principal, or a component (`pipeline`, `trigger-resolver`). */
  readonly actor: string;
  readonly details: Readonly<Record<string, unknown>>;
}

/** The audit trail (`AUDIT#{day}` items, listed per subject). */
export interface AuditLog {
  /** Appends an entry unless one with its id exists. */
  append(entry: AuditRecord): Promise<void>;
}
