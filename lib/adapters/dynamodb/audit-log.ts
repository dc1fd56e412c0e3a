import type { TriggerAuditEntry, TriggerAuditLog } from '../../ports/trigger-audit.js';
import { keys } from './keys.js';
import type { SingleTable } from './single-table.js';

/**
 * The append-only audit trail (`AUDIT#{day}` / `{at}#{id}`, by subject through GSI1): an entry is written
 * once (`attribute_not_exists`), so a retried step with the same id adds nothing.
 */
export class DynamoAuditLog implements TriggerAuditLog {
  constructor(private readonly table: SingleTable) {}

  async append(entry: TriggerAuditEntry): Promise<void> {
    const key = keys.auditEntry(entry.at, entry.id);
    await this.table.putIfAbsent({
      ...key,
      ...entry,
      GSI1PK: keys.auditSubjectIndex.pk(entry.subject),
      GSI1SK: key.SK,
    });
  }
}
