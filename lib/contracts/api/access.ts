import * as z from 'zod';
import { groupNameSchema } from '../identity.js';
import { namespacePattern, namespaceRoles } from './access-limits.js';

export { namespaceRoles };

import { cursorSchema, limitSchema, pageSchema } from './common.js';

/**
 * The roles of a namespace, weakest first: each includes the ones before it (a deployer may publish and
 * view, an admin may do everything in the namespace).
 */
export const namespaceRoleSchema = z.enum(namespaceRoles);
export type NamespaceRole = z.infer<typeof namespaceRoleSchema>;

/** A DataKit namespace as paths and bodies name it. */
export const accessNamespaceSchema = z
  .string()
  .regex(namespacePattern, 'a namespace: lower-case letters, digits and -, at most 63 characters');

/**
 * Who a binding admits, as approver groups name callers: an IAM principal ARN pattern in AWS (`*` any run
 * of characters, `?` one; a role ARN admits every session of the role), a name in embedded mode.
 */
const principalPatternSchema = z
  .string()
  .regex(/^[\x21-\x7e]{1,2048}$/u, '1–2048 visible ASCII characters (a principal or a pattern)');

/** One role of a namespace and who holds it: principals (patterns) and groups (`datakit:approverGroups`). */
export const roleBindingSchema = z
  .strictObject({
    role: namespaceRoleSchema,
    principals: z.array(principalPatternSchema).max(100).default([]),
    groups: z.array(groupNameSchema).max(100).default([]),
  })
  .refine((binding) => binding.principals.length + binding.groups.length > 0, {
    message: 'names at least one principal or group',
  });

export type RoleBinding = z.infer<typeof roleBindingSchema>;

/** `PUT /v1/namespaces/{namespace}/bindings`: every binding of the namespace (it replaces them). */
export const putBindingsBodySchema = z
  .strictObject({
    bindings: z.array(roleBindingSchema).max(namespaceRoles.length),
    /** The revision read; the write is refused with 409 if someone changed them since. Omit to overwrite. */
    revision: z.number().int().min(0).optional(),
  })
  .superRefine((body, context) => {
    const seen = new Set<string>();
    body.bindings.forEach((binding, index) => {
      if (seen.has(binding.role)) {
        context.addIssue({
          code: 'custom',
          path: ['bindings', index, 'role'],
          message: `role ${binding.role} is listed twice; list each role once`,
        });
      }
      seen.add(binding.role);
    });
    // Bindings without an admin lock the namespace: only the platform-admin group could change them, and in
    // `npm start`'s `auto` mode the first such write would lock out the developer who made it.
    if (body.bindings.length > 0 && !seen.has('admin')) {
      context.addIssue({
        code: 'custom',
        path: ['bindings'],
        message:
          'a namespace with bindings needs an admin (a principal or a group) to change them; add one, or send no bindings to clear them',
      });
    }
  });

export type PutBindingsBody = z.infer<typeof putBindingsBodySchema>;

export const namespacePathSchema = z.object({ namespace: accessNamespaceSchema });

/** The bindings of a namespace as the API shows them (revision 0: none were ever written). */
export const namespaceBindingsSchema = z
  .object({
    namespace: z.string(),
    bindings: z.array(
      z.object({ role: namespaceRoleSchema, principals: z.array(z.string()), groups: z.array(z.string()) }),
    ),
    revision: z.number().int(),
    updatedAt: z.string().optional(),
    updatedBy: z.string().optional(),
  })
  .meta({ id: 'NamespaceBindings' });

export type NamespaceBindings = z.infer<typeof namespaceBindingsSchema>;

/** How a recorded action ended: done, refused (a 4xx: the caller's mistake or a missing permission), failed (ours). */
export const auditOutcomeSchema = z.enum(['succeeded', 'refused', 'failed']);
export type AuditOutcome = z.infer<typeof auditOutcomeSchema>;

/** One record of the audit trail, as `GET /v1/audit` lists it. */
export const auditRecordSchema = z
  .object({
    id: z.string(),
    at: z.string(),
    /** `<capability>.<verb>`: `promotion.request`, `store.put`, `package.version.registered`, … */
    action: z.string(),
    /** Who: the authenticated principal (an IAM ARN, an embedded name) or a component (`pipeline`, `ecr`). */
    principal: z.string(),
    /** The person behind the principal (an assumed role's session name). */
    person: z.string(),
    /** The DataKit namespace it concerns, when it concerns one. */
    namespace: z.string().optional(),
    /** What it is about: `package:{ns}/{name}`, `promotion:{id}`, `cell:{cell}`, `bindings:{ns}`, … */
    target: z.string(),
    outcome: auditOutcomeSchema,
    /** The API request that did it (absent for components acting on their own: workers, schedules). */
    requestId: z.string().optional(),
    /** API requests: `METHOD /path` and the HTTP status answered. */
    request: z.object({ method: z.string(), path: z.string(), status: z.number().int() }).optional(),
    /** The problem code of a refusal or failure. */
    code: z.string().optional(),
    /** The state before and after, where there is one (values over 16 KiB are replaced by their digest). */
    before: z.unknown().optional(),
    after: z.unknown().optional(),
    /** What the operation recorded on its way (the domain's own entries for this request). */
    effects: z.array(z.object({ action: z.string(), target: z.string(), details: z.unknown() })).optional(),
    details: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ id: 'AuditRecord' });

export type AuditRecordView = z.infer<typeof auditRecordSchema>;

export const auditPageSchema = pageSchema(auditRecordSchema).meta({ id: 'AuditPage' });

const instantError = 'an ISO date-time with an offset (2026-01-31T00:00:00Z) or a date (2026-01-31)';

/**
 * An instant of the audit query: an ISO date-time with an offset, or a date (UTC) — the start of the day for
 * `from`, its end for `to`, so `from=2026-06-01&to=2026-06-30` is all of June.
 */
const instantSchema = (edge: 'start' | 'end') =>
  z
    .union([
      z.iso.datetime({ offset: true, error: instantError }),
      z.iso
        .date({ error: instantError })
        .transform((day) => `${day}${edge === 'start' ? 'T00:00:00.000Z' : 'T23:59:59.999Z'}`),
    ])
    .transform((value) => new Date(value).toISOString())
    .meta({ description: instantError });

/** `GET /v1/audit`: newest first, filtered by namespace, actor, action and time. */
export const auditQuerySchema = z
  .object({
    namespace: accessNamespaceSchema.optional(),
    /** A principal (ARN or name) or a person (session name); matches either. */
    actor: z.string().min(1).max(2048).optional(),
    /** An action (`promotion.request`) or a prefix ending in `.*` (`promotion.*`). */
    action: z
      .string()
      .regex(/^[a-z][a-z0-9.-]{0,127}(?:\.\*)?$/, 'an action (promotion.request) or a prefix (promotion.*)')
      .optional(),
    target: z.string().min(1).max(1024).optional(),
    from: instantSchema('start').optional(),
    to: instantSchema('end').optional(),
    limit: limitSchema,
    cursor: cursorSchema,
  })
  .superRefine((query, context) => {
    if (query.from !== undefined && query.to !== undefined && query.from > query.to) {
      context.addIssue({ code: 'custom', path: ['from'], message: 'must not be after to' });
    }
  });

export type AuditQuery = z.infer<typeof auditQuerySchema>;
