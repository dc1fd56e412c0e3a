import type { z } from 'zod';
import { problemDetailsSchema } from '../contracts/api/common.js';
import { listPackagesQuerySchema, packagePageSchema } from '../contracts/api/packages.js';
import { healthSchema } from '../contracts/api/system.js';

/**
 * The Lambda functions behind the API, by folder under `lambdas/`. The CDK stack creates one function
 * per name and the embedded server runs the same handlers in process.
 */
export const apiFunctionNames = ['system-api', 'packages-api', 'fallback'] as const;
export type ApiFunctionName = (typeof apiFunctionNames)[number];

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

export interface ResponseDefinition {
  readonly description: string;
  readonly schema?: z.ZodType;
  /** @default application/json */
  readonly contentType?: string;
}

/**
 * One operation of the API: the contract both API Gateway and the embedded router serve. Every method
 * requires IAM (SigV4) authorization in AWS.
 */
export interface RouteDefinition {
  readonly method: HttpMethod;
  /** The API Gateway resource path, `{param}` for path parameters. */
  readonly path: string;
  readonly function: ApiFunctionName;
  readonly summary: string;
  readonly tag: string;
  readonly pathParameters?: z.ZodType;
  readonly query?: z.ZodType;
  /** A JSON body parsed with this schema; omit for operations without a body. */
  readonly body?: z.ZodType;
  /** Largest accepted body after decompression. @default 1 MiB */
  readonly maxBodyBytes?: number;
  readonly responses: Readonly<Record<number, ResponseDefinition>>;
}

const problem = (description: string): ResponseDefinition => ({
  description,
  schema: problemDetailsSchema,
  contentType: 'application/problem+json',
});

/** Every operation, keyed by operationId. */
export const routes = {
  getHealth: {
    method: 'GET',
    path: '/healthz',
    function: 'system-api',
    summary: 'Liveness of the API and its storage',
    tag: 'system',
    responses: { 200: { description: 'Healthy', schema: healthSchema }, 503: problem('Storage unreachable') },
  },
  getOpenApi: {
    method: 'GET',
    path: '/openapi.json',
    function: 'system-api',
    summary: 'This API as an OpenAPI 3.1 document',
    tag: 'system',
    responses: { 200: { description: 'The OpenAPI document' } },
  },
  listPackages: {
    method: 'GET',
    path: '/v1/packages',
    function: 'packages-api',
    summary: 'Registered packages, newest first within each namespace',
    tag: 'packages',
    query: listPackagesQuerySchema,
    responses: {
      200: { description: 'A page of packages', schema: packagePageSchema },
      400: problem('Bad query'),
    },
  },
} as const satisfies Record<string, RouteDefinition>;

export type OperationId = keyof typeof routes;

/** The routes as a list, for the router and the stacks. */
export const routeList: readonly (RouteDefinition & { readonly operationId: OperationId })[] = (
  Object.keys(routes) as OperationId[]
).map((operationId) => ({ ...routes[operationId], operationId }));
