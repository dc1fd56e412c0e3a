import { lazyContract, problemResponse, type Route } from '../route-definition.js';

const system = lazyContract(() => import('../../contracts/api/system.js'));

export const systemFunctionNames = ['system-api', 'fallback'] as const;

export const systemRoutes = {
  getHealth: {
    method: 'GET',
    path: '/healthz',
    function: 'system-api',
    summary: 'Liveness of the API and its storage',
    tag: 'system',
    access: { kind: 'read', of: 'caller' },
    responses: {
      200: { description: 'Healthy', schema: system.healthSchema },
      503: problemResponse(
        'Storage unreachable, or (embedded mode) unhealthy since a read or write failed: the detail says which',
      ),
    },
  },
  getOpenApi: {
    method: 'GET',
    path: '/openapi.json',
    function: 'system-api',
    summary: 'This API as an OpenAPI 3.1 document',
    tag: 'system',
    access: { kind: 'read', of: 'caller' },
    responses: { 200: { description: 'The OpenAPI document' } },
  },
} as const satisfies Record<string, Route<(typeof systemFunctionNames)[number]>>;
