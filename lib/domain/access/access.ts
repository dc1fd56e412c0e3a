import type { NamespaceRole, RoleBinding } from '../../contracts/api/access.js';
import { namespaceRoles } from '../../contracts/api/access-limits.js';
import { ForbiddenError } from '../errors.js';
import { matchesPattern } from '../identity/groups.js';
import { type Caller, roleArnOf } from '../identity/principal.js';

/**
 * Whether namespace roles are enforced: `enforced` always (AWS's default), `off` never (every caller may
 * do everything; still audited), `auto` (embedded mode's default) once any namespace has bindings or the
 * platform-admin group has members — a single developer with neither is never refused.
 */
export type AccessMode = 'enforced' | 'auto' | 'off';

/** Whether reads of a namespace need `viewer` (`restricted`) or any authenticated caller will do (`open`). */
export type ReadAccess = 'open' | 'restricted';

/** What an operation needs: a role in a namespace, or membership of the platform-admin group. */
export type Requirement =
  | { readonly kind: 'role'; readonly role: NamespaceRole; readonly namespace: string }
  | { readonly kind: 'platform-admin' };

/** The caller as access decisions see it: who, in which groups, and whether a platform admin. */
export interface Subject {
  readonly caller: Caller;
  readonly groups: readonly string[];
  readonly platformAdmin: boolean;
}

/** Why a requirement was met: a binding, the platform-admin group, or enforcement being off. */
export type Grant = 'binding' | 'platform-admin' | 'not-enforced';

/** The rank of a role: a role includes every role of lower rank. */
export function rankOf(role: NamespaceRole): number {
  return namespaceRoles.indexOf(role);
}

/** Whether a binding's principal pattern admits the caller (a role ARN admits every session of the role). */
function admits(pattern: string, principal: string): boolean {
  if (matchesPattern(pattern, principal)) return true;
  const role = roleArnOf(principal);
  return role !== undefined && matchesPattern(pattern, role);
}

/** The strongest role the bindings give the subject in their namespace, if any. */
export function roleOf(bindings: readonly RoleBinding[], subject: Subject): NamespaceRole | undefined {
  const member = new Set(subject.groups);
  let best: NamespaceRole | undefined;
  for (const binding of bindings) {
    const held =
      binding.groups.some((group) => member.has(group)) ||
      binding.principals.some((pattern) => admits(pattern, subject.caller.principal));
    if (held && (best === undefined || rankOf(binding.role) > rankOf(best))) best = binding.role;
  }
  return best;
}

/**
 * Decides a requirement: a platform admin meets every one (admins bootstrap bindings); a role in a
 * namespace is met by a binding of that role or a stronger one. Pure: the caller supplies the bindings.
 */
export function decide(
  requirement: Requirement,
  subject: Subject,
  bindings: readonly RoleBinding[],
): { readonly allowed: true; readonly grant: Grant } | { readonly allowed: false } {
  if (subject.platformAdmin) return { allowed: true, grant: 'platform-admin' };
  if (requirement.kind === 'platform-admin') return { allowed: false };
  const held = roleOf(bindings, subject);
  return held !== undefined && rankOf(held) >= rankOf(requirement.role)
    ? { allowed: true, grant: 'binding' }
    : { allowed: false };
}

/** 403 `ROLE_REQUIRED`: names the role the caller lacks and where (`path` is the request field). */
export class RoleRequiredError extends ForbiddenError {
  constructor(
    readonly requirement: Requirement,
    caller: Caller,
    path: string | undefined,
    platformAdminGroup: string,
  ) {
    const what =
      requirement.kind === 'platform-admin'
        ? `membership of the platform-admin group ${platformAdminGroup}`
        : `role ${requirement.role} in namespace ${requirement.namespace}`;
    super(
      'ROLE_REQUIRED',
      `${caller.principal} lacks ${what}; a namespace admin grants roles with PUT /v1/namespaces/{namespace}/bindings.`,
      {
        problems: [
          {
            code: 'ROLE_REQUIRED',
            ...(path === undefined ? {} : { path }),
            message:
              requirement.kind === 'platform-admin'
                ? `platform-admin (group ${platformAdminGroup})`
                : `${requirement.role} in ${requirement.namespace}`,
          },
        ],
      },
    );
  }
}
