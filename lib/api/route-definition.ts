import type * as z from 'zod';
import type { HttpRequest } from './request.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

/**
 * A schema of the route table, built the first time it is needed. Building every schema of the API
 * costs each Lambda function's cold start more than the rest of its code, and a function serves few
 * operations: it builds only those, on their first request (ADR "Lambda cold start").
 */
export type LazySchema<S extends z.ZodType = z.ZodType> = () => Promise<S>;

/** The exported zod schemas of a contract module, as lazy schemas. */
export type LazySchemas<M> = {
  readonly [K in keyof M as M[K] extends z.ZodType ? K : never]: M[K] extends z.ZodType
    ? LazySchema<M[K]>
    : never;
};

/**
 * The schemas of a contract module, for the route table: `contract.fooSchema` is a lazy schema that
 * imports the module (evaluating every schema in it) on first use. The bundler keeps the module out of
 * the importer's start-up, so a function pays only for the contracts of the operations it serves.
 */
export function lazyContract<M>(load: () => Promise<M>): LazySchemas<M> {
  let loaded: Promise<M> | undefined;
  const schemas = new Map<string, LazySchema>();
  const schema =
    (name: string): LazySchema =>
    async () => {
      loaded ??= load();
      const value: unknown = (await loaded)[name as keyof M];
      if (!isZodType(value)) throw new Error(`the contract module exports no schema ${name}`);
      return value;
    };
  // A proxy, so routes name schemas as properties (checked by the type) without loading the module.
  return new Proxy(Object.create(null), {
    get: (_target, name) => {
      // Not a thenable: `await contract` must not call a lazy schema as `then`.
      if (typeof name !== 'string' || name === 'then') return undefined;
      let lazy = schemas.get(name);
      if (lazy === undefined) {
        lazy = schema(name);
        schemas.set(name, lazy);
      }
      return lazy;
    },
  });
}

function isZodType(value: unknown): value is z.ZodType {
  return typeof value === 'object' && value !== null && '_zod' in value && 'safeParse' in value;
}

export interface ResponseDefinition {
  readonly description: string;
  readonly schema?: z.ZodType;
  /** @default application/json */
  readonly contentType?: string;
}

/** A response of the route table, its schema lazy. */
export interface ResponseDeclaration {
  readonly description: string;
  readonly schema?: LazySchema;
  /** @default application/json */
  readonly contentType?: string;
}

/**
 * Where a request names the DataKit namespace it concerns: a path parameter, a query parameter or a body
 * field (dotted for nested ones: `filter.namespace`), the package of the run or promotion whose id is a path
 * parameter, or `operation` when only the operation finds out (a registration reads its artifact) and
 * checks it itself through `HttpRequest.authorize`.
 */
export type NamespaceSource =
  | { readonly path: string }
  | { readonly query: string }
  | { readonly body: string }
  | { readonly run: string }
  | { readonly promotion: string }
  | 'operation';

/**
 * Who may call a route (ADR 0018; lib/api/access-control.ts enforces it). Every route declares one, so a
 * route without a permission does not compile, and the authorization matrix test covers each.
 *
 * Reads: `caller` (any authenticated caller: the namespaces are not DataKit's, or there are none),
 * `namespace` (`viewer` of it when `datakit:namespaceReadAccess` is `restricted`; without one, platform
 * admins), `namespaces` (a list across namespaces: when restricted, items of namespaces the caller may not
 * view are left out), `platform` (spans namespaces: platform admins when restricted), `admin` (the role
 * `admin` of the namespace, or platform admins without one, whatever the read access).
 *
 * Writes name their audit `action` and `target` (a template of request fields: `package:{body.namespace}/{body.name}`)
 * and who may: a namespace role, `platform-admin`, `caller` (any authenticated caller; `audited: false` only
 * for OpenLineage events, recorded as raw events instead) or `approver` (the approval rules decide).
 */
export type RouteAccess =
  | { readonly kind: 'read'; readonly of: 'caller' | 'namespaces' | 'platform' }
  | { readonly kind: 'read'; readonly of: 'namespace' | 'admin'; readonly namespace: NamespaceSource }
  | {
      readonly kind: 'write';
      readonly action: string;
      readonly target: string;
      readonly role: 'publisher' | 'deployer' | 'admin' | 'approver';
      readonly namespace: NamespaceSource;
    }
  | {
      readonly kind: 'write';
      readonly action: string;
      readonly target: string;
      readonly role: 'platform-admin' | 'caller';
      /** @default true */
      readonly audited?: false;
    };

interface RouteMetadata<F extends string> {
  readonly method: HttpMethod;
  /** The API Gateway resource path, `{param}` for path parameters. */
  readonly path: string;
  /** The function (folder under `lambdas/`) that serves it. */
  readonly function: F;
  readonly summary: string;
  readonly tag: string;
  /** Largest accepted body after decompression. @default 1 MiB */
  readonly maxBodyBytes?: number;
  /** Who may call it, and (writes) what the audit trail records. */
  readonly access: RouteAccess;
}

/**
 * One operation of the API as the route table declares it: the contract both API Gateway and the
 * embedded router serve, its schemas lazy (`loadRoute` builds them). Every method requires IAM (SigV4)
 * authorization in AWS.
 */
export interface Route<F extends string = string> extends RouteMetadata<F> {
  readonly pathParameters?: LazySchema;
  readonly query?: LazySchema;
  /** A JSON body parsed with this schema; omit for operations without a body. */
  readonly body?: LazySchema;
  readonly responses: Readonly<Record<number, ResponseDeclaration>>;
}

/** One operation with its schemas built: what the request parser and the OpenAPI document use. */
export interface RouteDefinition<F extends string = string> extends RouteMetadata<F> {
  readonly pathParameters?: z.ZodType;
  readonly query?: z.ZodType;
  /** A JSON body parsed with this schema; omit for operations without a body. */
  readonly body?: z.ZodType;
  readonly responses: Readonly<Record<number, ResponseDefinition>>;
}

/** Builds a route's schemas (each contract module is imported once per process). */
export async function loadRoute<F extends string>(route: Route<F>): Promise<RouteDefinition<F>> {
  const { pathParameters, query, body, responses, ...metadata } = route;
  const [path, queryString, json, responseList] = await Promise.all([
    pathParameters?.(),
    query?.(),
    body?.(),
    Promise.all(
      Object.entries(responses).map(async ([status, { schema, ...response }]) => {
        const built = await schema?.();
        return [status, built === undefined ? response : { ...response, schema: built }] as const;
      }),
    ),
  ]);
  return {
    ...metadata,
    ...(path === undefined ? {} : { pathParameters: path }),
    ...(queryString === undefined ? {} : { query: queryString }),
    ...(json === undefined ? {} : { body: json }),
    responses: Object.fromEntries(responseList),
  };
}

/** What a lazy schema parses to: `undefined` where the route has none. */
type Parsed<L> = L extends LazySchema<infer S> ? z.output<S> : undefined;

/** The typed request of a route of the table. */
export type RequestOf<R extends Route> = HttpRequest<
  Parsed<R['pathParameters']>,
  Parsed<R['query']>,
  Parsed<R['body']>
>;

const common = lazyContract(() => import('../contracts/api/common.js'));

/** A problem+json response of a route. */
export const problemResponse = (description: string): ResponseDeclaration => ({
  description,
  schema: common.problemDetailsSchema,
  contentType: 'application/problem+json',
});
