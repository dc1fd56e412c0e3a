import type { Route } from './route-definition.js';
import { accessFunctionNames, accessRoutes } from './routes/access.js';
import { governanceFunctionNames, governanceRoutes } from './routes/governance.js';
import { lineageFunctionNames, lineageRoutes } from './routes/lineage.js';
import { promotionFunctionNames, promotionRoutes } from './routes/promotions.js';
import { registryFunctionNames, registryRoutes } from './routes/registry.js';
import { runFunctionNames, runRoutes } from './routes/runs.js';
import { systemFunctionNames, systemRoutes } from './routes/system.js';

export type {
  HttpMethod,
  NamespaceSource,
  ResponseDefinition,
  Route,
  RouteAccess,
  RouteDefinition,
} from './route-definition.js';

/**
 * The Lambda functions behind the API, by folder under `lambdas/`. The CDK stack creates one function
 * per name and the embedded server runs the same handlers in process. Each capability declares its
 * own in `routes/<capability>.ts`.
 */
export const apiFunctionNames = [
  ...systemFunctionNames,
  ...registryFunctionNames,
  ...lineageFunctionNames,
  ...runFunctionNames,
  ...promotionFunctionNames,
  ...governanceFunctionNames,
  ...accessFunctionNames,
] as const;
export type ApiFunctionName = (typeof apiFunctionNames)[number];

/** Every operation of the API, keyed by operationId; schemas are built on first use (`loadRoute`). */
export const routes = {
  ...systemRoutes,
  ...registryRoutes,
  ...lineageRoutes,
  ...runRoutes,
  ...promotionRoutes,
  ...governanceRoutes,
  ...accessRoutes,
} as const satisfies Record<string, Route<ApiFunctionName>>;

export type OperationId = keyof typeof routes;

/** The routes as a list, for the router and the stacks. */
export const routeList: readonly (Route<ApiFunctionName> & {
  readonly operationId: OperationId;
})[] = (Object.keys(routes) as OperationId[]).map((operationId) => ({ ...routes[operationId], operationId }));
