import type { AuditLog, AuditRecord } from '../../ports/audit-log.js';
import { keys } from './keys.js';
import type { SingleTable } from './single-table.js';

/**
 * The audit trail in the table: `AUDIT#{day}` / `{at}#{id}`, listed per subject through GSI1 (the layout
 * registration's entries use). Written with putIfAbsent, so a retried write of the same id is one entry.
 */
export class DynamoAuditLog implements AuditLog {
  constructor(private readonly table: SingleTable) {}

  async append(entry: AuditRecord): Promise<void> {
    const key = keys.auditEntry(entry.at, entry.id);
    await this.table.putIfAbsent({
      ...key,
      ...entry,
      GSI1PK: keys.auditSubjectIndex.pk(entry.subject),
      GSI1SK: key.SK,
    });
  }
}
