import type { TriggerAuditAction } from '../domain/triggers/trigger-state.js';

/** One audit entry of the trigger resolver; its id and time are deterministic, so a retry is one entry. */
export interface TriggerAuditEntry {
  readonly id: string;
  readonly at: string;
  readonly action: TriggerAuditAction;
  /** `package:{ns}/{name}`: the consumer. */
  readonly subject: string;
  readonly actor: 'trigger-resolver' | 'scheduler';
  readonly details: Readonly<Record<string, unknown>>;
  /** @default 'succeeded' (a start refused by the run plane is `refused`) */
  readonly outcome?: 'succeeded' | 'refused';
}

/** The append-only audit trail (an entry with an id already written is written once). */
export interface TriggerAuditLog {
  append(entry: TriggerAuditEntry): Promise<void>;
}
