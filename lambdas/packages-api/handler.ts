import { type ApiHandler, createApiHandler } from '../../lib/api/http-handler.js';
import { type Dependencies, lambdaDependencies } from '../../lib/runtime/dependencies.js';

/** Read access to the package registry. */
export function createPackagesApi(deps: Dependencies): ApiHandler {
  return createApiHandler(
    'packages-api',
    {
      listPackages: async ({ query }) => {
        const [key, ...rest] = query.label?.split('=') ?? [];
        const label = key === undefined ? undefined : { key, value: rest.join('=') };
        return { status: 200, body: await deps.packages.list({ ...query, label }) };
      },
    },
    deps.logger,
  );
}

let instance: ApiHandler | undefined;
export const handler: ApiHandler = (event, context) => {
  instance ??= createPackagesApi(lambdaDependencies());
  return instance(event, context);
};
