import { type ApiHandler, createApiHandler } from '../../lib/api/http-handler.js';
import { openApiDocument } from '../../lib/api/openapi.js';
import { DependencyUnavailableError } from '../../lib/domain/errors.js';
import { type Dependencies, lambdaDependencies } from '../../lib/runtime/dependencies.js';

/** The system endpoints: health (which proves the table answers) and the OpenAPI document. */
export function createSystemApi(deps: Dependencies): ApiHandler {
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
