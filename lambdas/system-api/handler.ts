import type { StorageHealth } from '../../lib/adapters/local/dynamodb-server.js';
import { type ApiHandler, createApiHandler } from '../../lib/api/http-handler.js';
import { openApiDocument } from '../../lib/api/openapi.js';
import { DependencyUnavailableError } from '../../lib/domain/errors.js';
import { type Dependencies, lambdaDependencies } from '../../lib/runtime/dependencies.js';

export interface SystemApiOptions {
  /**
   * The storage's own health (the embedded one records a full disk or a damaged file), asked after the
   * table answered; absent in AWS, where DynamoDB is managed.
   */
  readonly storageHealth?: () => Promise<StorageHealth>;
}

/** The system endpoints: health (which proves the table answers) and the OpenAPI document. */
export function createSystemApi(deps: Dependencies, options: SystemApiOptions = {}): ApiHandler {
  return createApiHandler(
    'system-api',
    {
      getHealth: async () => {
        const unanswered = await deps.table.get({ PK: '#HEALTH', SK: '#HEALTH' }, { consistent: false }).then(
          () => undefined,
          (cause: unknown) => ({ cause }),
        );
        // The storage's own account of a fault says more than the failed read.
        const storage = await options.storageHealth?.();
        if (storage?.status === 'unhealthy') {
          throw new DependencyUnavailableError('STORAGE_UNAVAILABLE', storage.detail, unanswered);
        }
        if (unanswered !== undefined) {
          throw new DependencyUnavailableError(
            'STORAGE_UNAVAILABLE',
            'The table does not answer.',
            unanswered,
          );
        }
        return {
          status: 200,
          body: { status: 'ok', version: deps.config.SERVICE_VERSION, time: deps.clock().toISOString() },
        };
      },
      getOpenApi: async () => ({ status: 200, body: openApiDocument(deps.config.SERVICE_VERSION) }),
    },
    deps,
  );
}

let instance: Promise<ApiHandler> | undefined;
export const handler: ApiHandler = async (event, context) => {
  instance ??= lambdaDependencies().then(createSystemApi);
  return (await instance)(event, context);
};
