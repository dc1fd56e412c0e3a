import type { StorageHealth } from '../../lib/adapters/local/dynamodb-server.js';
import { type ApiHandler, createApiHandler } from '../../lib/api/http-handler.js';
import { DependencyUnavailableError } from '../../lib/domain/errors.js';
import { lambdaDependencies } from '../../lib/runtime/lambda.js';
import type { SharedDependencies } from '../../lib/runtime/wiring/shared.js';

export interface SystemApiOptions {
  /**
   * The storage's own health (the embedded one records a full disk or a damaged file), asked after the
   * table answered; absent in AWS, where DynamoDB is managed.
   */
  readonly storageHealth?: () => Promise<StorageHealth>;
}

/** The system endpoints: health (which proves the table answers) and the OpenAPI document. */
export function createSystemApi(deps: SharedDependencies, options: SystemApiOptions = {}): ApiHandler {
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
      // The generator builds every schema of the API: imported on first use, so /healthz never pays for it.
      getOpenApi: async () => {
        const { openApiDocument } = await import('../../lib/api/openapi.js');
        return { status: 200, body: await openApiDocument(deps.config.SERVICE_VERSION) };
      },
    },
    deps,
  );
}

let instance: Promise<ApiHandler> | undefined;
export const handler: ApiHandler = async (event, context) => {
  instance ??= lambdaDependencies().then(createSystemApi);
  return (await instance)(event, context);
};
