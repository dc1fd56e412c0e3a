import type * as z from 'zod';
import { problemDetailsSchema } from '../contracts/api/common.js';

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
export interface RouteDefinition<F extends string = string> {
  readonly method: HttpMethod;
  /** The API Gateway resource path, `{param}` for path parameters. */
  readonly path: string;
  /** The function (folder under `lambdas/`) that serves it. */
  readonly function: F;
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

/** A problem+json response of a route. */
export const problemResponse = (description: string): ResponseDefinition => ({
  description,
  schema: problemDetailsSchema,
  contentType: 'application/problem+json',
});
