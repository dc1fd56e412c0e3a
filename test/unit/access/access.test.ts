import { describe, expect, it } from 'vitest';
import type { RoleBinding } from '../../../lib/contracts/api/access.js';
import { namespaceRoles, putBindingsBodySchema } from '../../../lib/contracts/api/access.js';
import {
  decide,
  RoleRequiredError,
  rankOf,
  roleOf,
  type Subject,
} from '../../../lib/domain/access/access.js';
import { callerFor } from '../../../lib/domain/identity/principal.js';

const subject = (principal: string, groups: string[] = [], platformAdmin = false): Subject => ({
  caller: callerFor(principal),
  groups,
  platformAdmin,
});

const bindings: RoleBinding[] = [
  { role: 'viewer', principals: ['arn:aws:iam::111122223333:user/*'], groups: [] },
  { role: 'deployer', principals: [], groups: ['release'] },
  { role: 'admin', principals: ['arn:aws:iam::111122223333:role/DataAdmins'], groups: [] },
];

describe('namespace roles', () => {
  it('rank viewer < publisher < deployer < admin, each including the ones before', () => {
    expect(namespaceRoles.map(rankOf)).toEqual([0, 1, 2, 3]);
  });

  it('give a caller the strongest role any binding admits, by principal pattern or group', () => {
    expect(roleOf(bindings, subject('arn:aws:iam::111122223333:user/vera'))).toBe('viewer');
    expect(roleOf(bindings, subject('arn:aws:iam::111122223333:user/vera', ['release']))).toBe('deployer');
    expect(roleOf(bindings, subject('arn:aws:iam::444455556666:user/vera'))).toBeUndefined();
  });

  it('admit every session of a bound role, as approver groups do', () => {
    const session = 'arn:aws:sts::111122223333:assumed-role/DataAdmins/ada';
    expect(roleOf(bindings, subject(session))).toBe('admin');
    expect(roleOf(bindings, subject('arn:aws:sts::111122223333:assumed-role/Other/ada'))).toBeUndefined();
  });
});

describe('decide', () => {
  const need = (role: (typeof namespaceRoles)[number]) =>
    ({ kind: 'role', role, namespace: 'sales' }) as const;

  it('allows a role or any stronger one, and refuses a weaker one', () => {
    const deployer = subject('carl', ['release']);
    expect(decide(need('publisher'), deployer, bindings)).toEqual({ allowed: true, grant: 'binding' });
    expect(decide(need('deployer'), deployer, bindings)).toEqual({ allowed: true, grant: 'binding' });
    expect(decide(need('admin'), deployer, bindings)).toEqual({ allowed: false });
  });

  it('lets platform admins do everything, and only them what needs the platform', () => {
    expect(decide(need('admin'), subject('pam', [], true), [])).toEqual({
      allowed: true,
      grant: 'platform-admin',
    });
    expect(decide({ kind: 'platform-admin' }, subject('pam', [], true), [])).toMatchObject({ allowed: true });
    expect(decide({ kind: 'platform-admin' }, subject('ada', ['release']), bindings)).toEqual({
      allowed: false,
    });
  });
});

describe('ROLE_REQUIRED', () => {
  it('names the missing role, the namespace and the request field', () => {
    const error = new RoleRequiredError(
      { kind: 'role', role: 'deployer', namespace: 'sales' },
      callerFor('vera'),
      'body.namespace',
      'platform-admins',
    );
    expect(error.code).toBe('ROLE_REQUIRED');
    expect(error.message).toContain('role deployer in namespace sales');
    expect(error.problems).toEqual([
      { code: 'ROLE_REQUIRED', path: 'body.namespace', message: 'deployer in sales' },
    ]);
  });
});

describe('PUT bindings body', () => {
  it('refuses a role listed twice and a binding naming nobody, with the field path', () => {
    const result = putBindingsBodySchema.safeParse({
      bindings: [
        { role: 'viewer', principals: ['a'] },
        { role: 'viewer', groups: ['owners'] },
        { role: 'admin' },
      ],
    });
    expect(result.success).toBe(false);
    const paths = result.error?.issues.map((issue) => issue.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['bindings.1.role', 'bindings.2']));
  });

  it('refuses bindings without an admin, which nobody but a platform admin could change again', () => {
    const result = putBindingsBodySchema.safeParse({
      bindings: [{ role: 'deployer', principals: ['rita'] }],
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues).toEqual([
      expect.objectContaining({ path: ['bindings'], message: expect.stringMatching(/needs an admin/) }),
    ]);
    expect(
      putBindingsBodySchema.safeParse({
        bindings: [
          { role: 'deployer', principals: ['rita'] },
          { role: 'admin', groups: ['owners'] },
        ],
      }).success,
    ).toBe(true);
    // Clearing every binding is allowed: the namespace goes back to the platform-admin group alone.
    expect(putBindingsBodySchema.safeParse({ bindings: [] }).success).toBe(true);
  });
});
