import { DynamoAuditStore } from '../../lib/adapters/dynamodb/audit-log.js';
import { DynamoBindingsStore } from '../../lib/adapters/dynamodb/bindings-store.js';
import { type ApiHandler, createApiHandler } from '../../lib/api/http-handler.js';
import type { NamespaceBindings } from '../../lib/contracts/api/access.js';
import { makeNamespaceBindings } from '../../lib/domain/access/bindings.js';
import type { StoredBindings } from '../../lib/ports/bindings-store.js';
import { lambdaDependencies } from '../../lib/runtime/lambda.js';
import { withEvents } from '../../lib/runtime/wiring/events.js';
import type { SharedDependencies } from '../../lib/runtime/wiring/shared.js';

const view = ({
  namespace,
  bindings,
  revision,
  updatedAt,
  updatedBy,
}: StoredBindings): NamespaceBindings => ({
  namespace,
  bindings: bindings.map((binding) => ({
    role: binding.role,
    principals: [...binding.principals],
    groups: [...binding.groups],
  })),
  revision,
  ...(updatedAt === undefined ? {} : { updatedAt }),
  ...(updatedBy === undefined ? {} : { updatedBy }),
});

/** Namespace role bindings and the audit trail (`/v1/namespaces/{namespace}/bindings`, `/v1/audit`). */
export function createAccessApi(deps: SharedDependencies): ApiHandler {
  const bindings = makeNamespaceBindings({ store: new DynamoBindingsStore(deps.table), clock: deps.clock });
  const trail = new DynamoAuditStore(deps.table, {
    retentionDays: deps.config.AUDIT_RETENTION_DAYS,
    clock: deps.clock,
  });
  return createApiHandler(
    'access-api',
    {
      getNamespaceBindings: async ({ path }) => ({
        status: 200,
        body: view(await bindings.get(path.namespace)),
      }),
      putNamespaceBindings: async ({ path, body, caller }) => {
        const { before, after } = await bindings.replace(
          path.namespace,
          body.bindings,
          caller.principal,
          body.revision,
        );
        // This instance sees the change at once; others within BINDINGS_CACHE_SECONDS.
        deps.access.forget(path.namespace);
        return {
          status: 200,
          body: view(after),
          audit: { before: view(before).bindings, after: view(after).bindings },
        };
      },
      listAudit: async ({ query }) => ({ status: 200, body: await trail.list(query) }),
    },
    deps,
  );
}

let instance: Promise<ApiHandler> | undefined;
export const handler: ApiHandler = async (event, context) => {
  instance ??= lambdaDependencies(withEvents).then(createAccessApi);
  return (await instance)(event, context);
};
