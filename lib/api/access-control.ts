import type { NamespaceRole } from '../contracts/api/access.js';
import {
  type AccessMode,
  decide,
  type ReadAccess,
  type Requirement,
  RoleRequiredError,
  type Subject,
} from '../domain/access/access.js';
import type { GroupDirectory } from '../domain/identity/groups.js';
import type { Caller } from '../domain/identity/principal.js';
import type { BindingsStore, NamespaceLookup, StoredBindings } from '../ports/bindings-store.js';
import type { NamespaceSource, RouteAccess } from './route-definition.js';

export interface AccessControlOptions {
  readonly mode: AccessMode;
  readonly readAccess: ReadAccess;
  /** The group of `groups` whose members are admins of every namespace. */
  readonly platformAdminGroup: string;
  readonly groups: GroupDirectory;
  readonly bindings: BindingsStore;
  readonly lookup: NamespaceLookup;
  readonly clock: () => Date;
  /** How long bindings read are trusted (s): a revoked binding works at most this long in another instance. */
  readonly cacheSeconds: number;
}

/** The parts of a parsed request an access declaration reads. */
export interface AccessRequest {
  readonly path: unknown;
  readonly query: unknown;
  readonly body: unknown;
  readonly caller: Caller;
}

/** What the check of a request found. */
export interface Authorization {
  /** The DataKit namespace the request concerns, when known before the operation (for the audit record). */
  readonly namespace?: string;
  /** Checks the route's role in a namespace only the operation finds out (`namespace: 'operation'`). */
  readonly authorize: (namespace: string) => Promise<void>;
  /** Lists across namespaces under restricted reads: leaves out items the caller may not view. */
  readonly filter?: (items: readonly unknown[]) => Promise<unknown[]>;
}

/** A namespace as a request gives it: the value and the field it came from (for the 403's `errors[].path`). */
type Resolved =
  | { readonly kind: 'named'; readonly namespace: string; readonly field: string }
  | { readonly kind: 'absent' }
  /** The run or promotion does not exist: the operation answers 404. */
  | { readonly kind: 'unknown-resource' }
  | { readonly kind: 'operation' };

/** Namespaces whose bindings an instance keeps at most (a namespace's item is small; this bounds many). */
const maxCachedNamespaces = 1000;

interface Cached<T> {
  readonly value: Promise<T>;
  readonly until: number;
}

/**
 * Enforces the route table's access declarations (ADR 0018): resolves the namespace a request concerns,
 * reads its bindings (cached per instance for `cacheSeconds`) and refuses with 403 `ROLE_REQUIRED` naming the
 * missing role and namespace. With enforcement off (or `auto` before anything is configured) every
 * check passes.
 */
export class AccessControl {
  private readonly cache = new Map<string, Cached<StoredBindings>>();
  private anyBindings: Cached<boolean> | undefined;

  constructor(private readonly options: AccessControlOptions) {}

  get platformAdminGroup(): string {
    return this.options.platformAdminGroup;
  }

  /** The caller with its groups, as decisions need it. */
  subject(caller: Caller): Subject {
    const groups = this.options.groups.groupsOf(caller.principal);
    return { caller, groups, platformAdmin: groups.includes(this.options.platformAdminGroup) };
  }

  /** Whether roles are enforced now: `auto` starts once any namespace has bindings or the admin group has members. */
  async enforced(): Promise<boolean> {
    const { mode } = this.options;
    if (mode !== 'auto') return mode === 'enforced';
    if (this.options.groups.hasMembers(this.options.platformAdminGroup)) return true;
    const now = this.options.clock().getTime();
    if (this.anyBindings === undefined || this.anyBindings.until <= now) {
      const value = this.options.bindings.anyBindings();
      // A failed read is not remembered: the next request asks again.
      value.catch(() => {
        this.anyBindings = undefined;
      });
      this.anyBindings = { value, until: now + this.options.cacheSeconds * 1000 };
    }
    return this.anyBindings.value;
  }

  /** A namespace's bindings, read at most once per `cacheSeconds` by this instance. */
  async bindingsOf(namespace: string): Promise<StoredBindings> {
    const now = this.options.clock().getTime();
    const cached = this.cache.get(namespace);
    if (cached !== undefined && cached.until > now) return cached.value;
    const value = this.options.bindings.get(namespace);
    value.catch(() => this.cache.delete(namespace));
    // Callers choose the namespaces they name: the cache keeps the most recently read, never all of them.
    this.cache.delete(namespace);
    if (this.cache.size >= maxCachedNamespaces) {
      const oldest = this.cache.keys().next();
      if (oldest.done !== true) this.cache.delete(oldest.value);
    }
    this.cache.set(namespace, { value, until: now + this.options.cacheSeconds * 1000 });
    return value;
  }

  /** Forgets what this instance read of a namespace's bindings (after it changed them itself). */
  forget(namespace: string): void {
    this.cache.delete(namespace);
    this.anyBindings = undefined;
  }

  /** Refuses with ROLE_REQUIRED unless the caller meets the requirement (or nothing is enforced). */
  async require(requirement: Requirement, caller: Caller, field?: string): Promise<void> {
    if (!(await this.enforced())) return;
    const subject = this.subject(caller);
    const bindings =
      requirement.kind === 'role' && !subject.platformAdmin
        ? (await this.bindingsOf(requirement.namespace)).bindings
        : [];
    if (!decide(requirement, subject, bindings).allowed) {
      throw new RoleRequiredError(requirement, caller, field, this.options.platformAdminGroup);
    }
  }

  /** Whether the caller may view a namespace (lists under restricted reads). */
  private async mayView(subject: Subject, namespace: string | undefined): Promise<boolean> {
    if (subject.platformAdmin) return true;
    if (namespace === undefined) return false;
    const requirement: Requirement = { kind: 'role', role: 'viewer', namespace };
    return decide(requirement, subject, (await this.bindingsOf(namespace)).bindings).allowed;
  }

  /** Checks a request against its route's declaration before the operation runs. */
  async authorize(access: RouteAccess, request: AccessRequest): Promise<Authorization> {
    const { caller } = request;
    const later = (role: NamespaceRole) => (namespace: string) =>
      this.require({ kind: 'role', role, namespace }, caller);
    const none = async () => {};
    if (access.kind === 'write') {
      if (!('namespace' in access)) {
        if (access.role === 'platform-admin') await this.require({ kind: 'platform-admin' }, caller);
        return { authorize: none };
      }
      const resolved = await this.resolve(access.namespace, request);
      const named = resolved.kind === 'named' ? { namespace: resolved.namespace } : {};
      // Approvals: the approval rules (group membership, never the requester) are the authorization.
      if (access.role === 'approver') return { ...named, authorize: none };
      if (resolved.kind === 'operation') return { authorize: later(access.role) };
      if (resolved.kind === 'named') {
        await this.require(
          { kind: 'role', role: access.role, namespace: resolved.namespace },
          caller,
          resolved.field,
        );
      } else if (resolved.kind === 'absent') {
        await this.require({ kind: 'platform-admin' }, caller);
      }
      return { ...named, authorize: none };
    }
    const restricted = this.options.readAccess === 'restricted';
    switch (access.of) {
      case 'caller':
        return { authorize: none };
      case 'platform':
        if (restricted) await this.require({ kind: 'platform-admin' }, caller);
        return { authorize: none };
      case 'namespaces': {
        if (!restricted || !(await this.enforced())) return { authorize: none };
        const subject = this.subject(caller);
        return {
          authorize: none,
          filter: async (items) => {
            const namespaces = [...new Set(items.map(namespaceOfItem))];
            const visible = new Map(
              await Promise.all(
                namespaces.map(
                  async (namespace) => [namespace, await this.mayView(subject, namespace)] as const,
                ),
              ),
            );
            return items.filter((item) => visible.get(namespaceOfItem(item)) === true);
          },
        };
      }
      case 'namespace':
      case 'admin': {
        const role: NamespaceRole = access.of === 'admin' ? 'admin' : 'viewer';
        const checked = access.of === 'admin' || restricted;
        const resolved = await this.resolve(access.namespace, request);
        if (checked && resolved.kind === 'named') {
          await this.require({ kind: 'role', role, namespace: resolved.namespace }, caller, resolved.field);
        } else if (checked && resolved.kind === 'absent') {
          await this.require({ kind: 'platform-admin' }, caller);
        }
        return { ...(resolved.kind === 'named' ? { namespace: resolved.namespace } : {}), authorize: none };
      }
    }
  }

  /** The namespace a request names through a declared source. */
  private async resolve(source: NamespaceSource, request: AccessRequest): Promise<Resolved> {
    if (source === 'operation') return { kind: 'operation' };
    if ('run' in source || 'promotion' in source) {
      const id = valueAt(request.path, 'run' in source ? source.run : source.promotion);
      if (typeof id !== 'string') return { kind: 'absent' };
      const namespace =
        'run' in source ? await this.options.lookup.ofRun(id) : await this.options.lookup.ofPromotion(id);
      return namespace === undefined
        ? { kind: 'unknown-resource' }
        : { kind: 'named', namespace, field: `path.${'run' in source ? source.run : source.promotion}` };
    }
    const [part, field] =
      'path' in source
        ? (['path', source.path] as const)
        : 'query' in source
          ? (['query', source.query] as const)
          : (['body', source.body] as const);
    const value = valueAt(request[part], field);
    return typeof value === 'string' && value !== ''
      ? { kind: 'named', namespace: value, field: `${part}.${field}` }
      : { kind: 'absent' };
  }
}

/** The value at a dotted path of a parsed request part (`filter.namespace`). */
function valueAt(part: unknown, dotted: string): unknown {
  let value = part;
  for (const key of dotted.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = Reflect.get(value, key);
  }
  return value;
}

/** The namespace of a list item (packages, DataSets, runs, promotions, registrations, deployments). */
function namespaceOfItem(item: unknown): string | undefined {
  const namespace = valueAt(item, 'namespace');
  return typeof namespace === 'string' ? namespace : undefined;
}
