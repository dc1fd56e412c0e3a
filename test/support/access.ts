import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoAuditStore } from '../../lib/adapters/dynamodb/audit-log.js';
import { DynamoBindingsStore, DynamoNamespaceLookup } from '../../lib/adapters/dynamodb/bindings-store.js';
import type { SingleTable } from '../../lib/adapters/dynamodb/single-table.js';
import { AccessControl, type AccessControlOptions } from '../../lib/api/access-control.js';
import type { HttpResult } from '../../lib/api/http-handler.js';
import type { HttpRequest } from '../../lib/api/request.js';
import { type OperationId, routeList } from '../../lib/api/routes.js';
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

/** A stand-in operation: what the access and audit tests run behind the real handler chain. */
export type StubOperation = (request: HttpRequest) => Promise<HttpResult>;

/**
 * A stub for every operation of the route table, each answering as `answer` says for its route: what the
 * matrix tests give `createApiHandler`, so they cover every route, a new one included, without its use case.
 */
export function stubOperations(
  answer: (route: (typeof routeList)[number], request: HttpRequest) => Promise<HttpResult>,
): Record<OperationId, StubOperation> {
  const stubs: Partial<Record<OperationId, StubOperation>> = {};
  for (const route of routeList) stubs[route.operationId] = (request) => answer(route, request);
  const missing = routeList.filter((route) => stubs[route.operationId] === undefined);
  if (missing.length > 0) throw new Error(`no stub for ${missing.map((route) => route.operationId)}`);
  // Every key is filled (checked above): the loop cannot tell the type so.
  return stubs as Record<OperationId, StubOperation>;
}
