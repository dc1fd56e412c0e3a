import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoAuditStore } from '../../lib/adapters/dynamodb/audit-log.js';
import { DynamoBindingsStore, DynamoNamespaceLookup } from '../../lib/adapters/dynamodb/bindings-store.js';
import type { SingleTable } from '../../lib/adapters/dynamodb/single-table.js';
import { AccessControl, type AccessControlOptions } from '../../lib/api/access-control.js';
import type { GroupPatterns } from '../../lib/contracts/identity.js';
import { GroupDirectory } from '../../lib/domain/identity/groups.js';
import type { EventPublisher } from '../../lib/ports/event-publisher.js';
import { AuditTrail } from '../../lib/runtime/audit-trail.js';

export interface AccessSetup {
  readonly mode?: AccessControlOptions['mode'];
  readonly readAccess?: AccessControlOptions['readAccess'];
  readonly groups?: GroupPatterns;
  readonly platformAdminGroup?: string;
  readonly clock?: () => Date;
  readonly publisher?: EventPublisher;
  readonly cacheSeconds?: number;
}

/** The access checks and audit trail of an API handler, on a real table, as the wiring builds them. */
export function accessDependencies(table: SingleTable, setup: AccessSetup = {}) {
  const clock = setup.clock ?? (() => new Date());
  const logger = new Logger({ logLevel: 'SILENT' });
  const audit = new AuditTrail({
    store: new DynamoAuditStore(table, { retentionDays: 400, clock }),
    logger,
    publisher: setup.publisher,
  });
  return {
    logger,
    clock,
    config: { IDENTITY_SOURCE: 'iam' as const },
    access: new AccessControl({
      mode: setup.mode ?? 'enforced',
      readAccess: setup.readAccess ?? 'open',
      platformAdminGroup: setup.platformAdminGroup ?? 'platform-admins',
      groups: new GroupDirectory(setup.groups ?? {}),
      bindings: new DynamoBindingsStore(table),
      lookup: new DynamoNamespaceLookup(table),
      clock,
      cacheSeconds: setup.cacheSeconds ?? 0,
    }),
    audit,
  };
}
