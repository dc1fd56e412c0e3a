import type { GroupPatterns } from '../../contracts/identity.js';
import { roleArnOf } from './principal.js';

/** Whether `value` matches `pattern`, where `*` is any run of characters and `?` one character. */
export function matchesPattern(pattern: string, value: string): boolean {
  // Iterative wildcard matching (no regular expression: patterns come from configuration).
  let p = 0;
  let v = 0;
  let star = -1;
  let resume = 0;
  while (v < value.length) {
    const char = pattern[p];
    if (char === '?' || (char !== undefined && char !== '*' && char === value[v])) {
      p++;
      v++;
    } else if (char === '*') {
      star = p++;
      resume = v;
    } else if (star >= 0) {
      p = star + 1;
      v = ++resume;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/**
 * Which groups a principal belongs to (`datakit:approverGroups` in AWS, `DATAKIT_GROUPS` in embedded
 * mode). An assumed-role session matches a pattern naming its session ARN or its role's ARN, so
 * `arn:aws:iam::111122223333:role/Approvers` admits every session of that role, and
 * `arn:aws:sts::111122223333:assumed-role/Approvers/alice` only alice's.
 */
export class GroupDirectory {
  private readonly groups: ReadonlyMap<string, readonly string[]>;

  constructor(groups: GroupPatterns = {}) {
    this.groups = new Map(Object.entries(groups));
  }

  /** Every group the principal is a member of, sorted. */
  groupsOf(principal: string): string[] {
    return [...this.groups.keys()].filter((group) => this.isMember(principal, group)).sort();
  }

  isMember(principal: string, group: string): boolean {
    const patterns = this.groups.get(group);
    if (patterns === undefined) return false;
    const role = roleArnOf(principal);
    const candidates = role === undefined ? [principal] : [principal, role];
    return patterns.some((pattern) => candidates.some((candidate) => matchesPattern(pattern, candidate)));
  }

  /** Whether anyone can be a member of the group (it has at least one pattern). */
  hasMembers(group: string): boolean {
    return (this.groups.get(group)?.length ?? 0) > 0;
  }

  /** The configured groups. */
  names(): string[] {
    return [...this.groups.keys()].sort();
  }
}
