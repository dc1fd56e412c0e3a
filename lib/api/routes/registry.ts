import { listPackagesQuerySchema, packagePageSchema } from '../../contracts/api/packages.js';
import { problemResponse, type RouteDefinition } from '../route-definition.js';

export const registryFunctionNames = ['packages-api'] as const;

export const registryRoutes = {
  listPackages: {
    method: 'GET',
    path: '/v1/packages',
    function: 'packages-api',
    summary: 'Registered packages, ordered by namespace and name',
    tag: 'packages',
    query: listPackagesQuerySchema,
    responses: {
      200: { description: 'A page of packages', schema: packagePageSchema },
      400: problemResponse('Bad query'),
    },
  },
} as const satisfies Record<string, RouteDefinition<(typeof registryFunctionNames)[number]>>;
