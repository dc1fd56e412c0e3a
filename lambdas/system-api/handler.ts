import { type ApiHandler, createApiHandler } from '../../lib/api/http-handler.js';
import { DependencyUnavailableError } from '../../lib/domain/errors.js';
import { lambdaDependencies } from '../../lib/runtime/lambda.js';
import type { SharedDependencies } from '../../lib/runtime/wiring/shared.js';

/** The system endpoints: health (which proves the table answers) and the OpenAPI document. */
export function createSystemApi(deps: SharedDependencies): ApiHandler {
  return createApiHandler(
    'system-api',
    {
      getHealth: async () => {
        try {
          await deps.table.get({ PK: '#HEALTH', SK: '#HEALTH' }, { consistent: false });
        } catch (cause) {
          throw new DependencyUnavailableError('STORAGE_UNAVAILABLE', 'The table does not answer.', {
            cause,
          });
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
