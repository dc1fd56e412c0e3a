import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { callerOf, requirePrincipal } from '../../../lib/api/caller.js';
import { GroupDirectory, matchesPattern } from '../../../lib/domain/identity/groups.js';
import { personOf, roleArnOf } from '../../../lib/domain/identity/principal.js';
import { apiEvent } from '../../support/api-event.js';

const account = '111122223333';

describe('who a principal is', () => {
  it('is the session name of an assumed role, the user name of an IAM user, else the principal itself', () => {
    expect(personOf(`arn:aws:sts::${account}:assumed-role/Deployers/alice`)).toBe('alice');
    expect(personOf(`arn:aws:sts::${account}:assumed-role/Approvers/alice@example.com`)).toBe(
      'alice@example.com',
    );
    expect(personOf(`arn:aws:iam::${account}:user/team/bob`)).toBe('bob');
    expect(personOf(`arn:aws-us-gov:iam::${account}:user/carol`)).toBe('carol');
    expect(personOf(`arn:aws:iam::${account}:root`)).toBe('root');
    expect(personOf('local-user')).toBe('local-user');
  });

  it('makes one person of one session name through two roles, and two of two session names of one role', () => {
    const viaOwners = personOf(`arn:aws:sts::${account}:assumed-role/Owners/alice`);
    const viaSecurity = personOf(`arn:aws:sts::${account}:assumed-role/Security/alice`);
    expect(viaOwners).toBe(viaSecurity);
    expect(personOf(`arn:aws:sts::${account}:assumed-role/Owners/alice-ci`)).not.toBe(viaOwners);
  });

  it('knows the role behind an assumed-role session', () => {
    expect(roleArnOf(`arn:aws:sts::${account}:assumed-role/Owners/alice`)).toBe(
      `arn:aws:iam::${account}:role/Owners`,
    );
    expect(roleArnOf(`arn:aws:iam::${account}:user/bob`)).toBeUndefined();
  });
});

describe('group membership', () => {
  const groups = new GroupDirectory({
    owners: [`arn:aws:iam::${account}:role/Owners`, `arn:aws:iam::${account}:user/team/*`],
    security: [`arn:aws:sts::${account}:assumed-role/Security/carol`, 'local-*'],
  });

  it('admits every session of a role named by its role ARN, and only one session named by its session ARN', () => {
    expect(groups.groupsOf(`arn:aws:sts::${account}:assumed-role/Owners/anyone`)).toEqual(['owners']);
    expect(groups.groupsOf(`arn:aws:sts::${account}:assumed-role/Security/carol`)).toEqual(['security']);
    expect(groups.groupsOf(`arn:aws:sts::${account}:assumed-role/Security/dave`)).toEqual([]);
  });

  it('matches `*` across path segments and nothing else implicitly', () => {
    expect(groups.isMember(`arn:aws:iam::${account}:user/team/bob`, 'owners')).toBe(true);
    expect(groups.isMember(`arn:aws:iam::${account}:user/bob`, 'owners')).toBe(false);
    expect(groups.isMember(`arn:aws:iam::999999999999:role/Owners`, 'owners')).toBe(false);
    expect(groups.isMember('local-user', 'security')).toBe(true);
    expect(groups.isMember('local-user', 'auditors')).toBe(false);
  });

  it('matches wildcards as a reference implementation does (property)', () => {
    const reference = (pattern: string, value: string) =>
      new RegExp(
        `^${pattern
          .replace(/[.+^${}()|[\]\\/]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.')}$`,
        's',
      ).test(value);
    const text = fc.string({ unit: fc.constantFrom('a', 'b', '/', ':'), maxLength: 8 });
    const pattern = fc.string({ unit: fc.constantFrom('a', 'b', '/', '*', '?'), maxLength: 8 });
    fc.assert(
      fc.property(pattern, text, (p, v) => matchesPattern(p, v) === reference(p, v)),
      { numRuns: 5000 },
    );
  });
});

describe('the caller of a request', () => {
  it('is the IAM caller in AWS, whatever x-datakit-principal says', () => {
    const event = apiEvent({
      resource: '/v1/promotions',
      userArn: `arn:aws:sts::${account}:assumed-role/Owners/alice`,
      headers: { 'x-datakit-principal': 'root' },
    });
    expect(callerOf(event, 'iam', { 'x-datakit-principal': 'root' })).toEqual({
      principal: `arn:aws:sts::${account}:assumed-role/Owners/alice`,
      person: 'alice',
    });
  });

  it('names itself with x-datakit-principal in embedded mode, from loopback only; local-user without it', () => {
    const event = apiEvent({ resource: '/v1/promotions' });
    expect(callerOf(event, 'embedded', { 'x-datakit-principal': 'carol' })).toEqual({
      principal: 'carol',
      person: 'carol',
    });
    expect(callerOf(event, 'embedded', {})).toEqual({ principal: 'local-user', person: 'local-user' });
    const remote = {
      ...event,
      requestContext: {
        ...event.requestContext,
        identity: { ...event.requestContext.identity, sourceIp: '10.0.0.7' },
      },
    };
    expect(callerOf(remote, 'embedded', { 'x-datakit-principal': 'carol' }).principal).toBe('anonymous');
  });

  it('refuses a mutating request without a principal (403 PRINCIPAL_REQUIRED)', () => {
    const event = apiEvent({ resource: '/v1/promotions', userArn: null });
    expect(() => requirePrincipal(callerOf(event, 'iam', {}))).toThrowError(
      expect.objectContaining({ code: 'PRINCIPAL_REQUIRED' }),
    );
  });
});
