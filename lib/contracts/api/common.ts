import * as z from 'zod';
import { problemSchema } from '../problem.js';

/** RFC 9457 problem details, with the control plane's stable `code` and per-field `errors`. */
export const problemDetailsSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    instance: z.string().optional(),
    requestId: z.string().optional(),
    errors: z.array(problemSchema).optional(),
  })
  .meta({ id: 'Problem' });

export type ProblemDetails = z.infer<typeof problemDetailsSchema>;

/** Page size of every list: 1–100, default 50. */
export const limitSchema = z.coerce.number().int().min(1).max(100).default(50);

/** The opaque `nextCursor` of the previous page. */
export const cursorSchema = z.string().min(1).max(2048).optional();

export const paginationQuerySchema = z.object({ limit: limitSchema, cursor: cursorSchema });

/** Wraps an item schema as a page of a list. */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().optional() });
}

/** DNS-safe names, as every manifest uses. */
export const dnsNameSchema = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be a DNS-safe name');
