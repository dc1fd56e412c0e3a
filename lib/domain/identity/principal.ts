/** Who is calling: the authenticated principal and the person behind it (issue 10). */
export interface Caller {
  /** As authenticated: an IAM ARN in AWS, the `x-datakit-principal` name in embedded mode. */
  readonly principal: string;
  /**
   * The person: the role session name of an assumed role (two sessions of one role are two people only
   * when their names differ; one person through two roles is one person), an IAM user's name, or the
   * embedded principal.
   */
  readonly person: string;
}

/** The caller of a request no one authenticated (embedded mode, from a non-loopback address). */
export const anonymousPrincipal = 'anonymous';

const assumedRolePattern = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/u;

/** The person behind a principal (an IAM ARN, or a name that is its own person). */
export function personOf(principal: string): string {
  const assumed = assumedRolePattern.exec(principal);
  if (assumed?.[4] !== undefined) return assumed[4];
  const user = /^arn:aws[a-z-]*:iam::\d{12}:user\/(?:.*\/)?([^/]+)$/u.exec(principal);
  if (user?.[1] !== undefined) return user[1];
  if (/^arn:aws[a-z-]*:iam::\d{12}:root$/u.test(principal)) return 'root';
  return principal;
}

/**
 * The IAM role ARN behind an assumed-role session ARN (`arn:aws:iam::<account>:role/<name>`), so group
 * patterns can name roles as IAM shows them. The session ARN carries no role path: a role with a path is
 * matched by a pattern like `arn:aws:iam::<account>:role/*<name>`.
 */
export function roleArnOf(principal: string): string | undefined {
  const assumed = assumedRolePattern.exec(principal);
  if (assumed === null) return undefined;
  return `arn:${assumed[1]}:iam::${assumed[2]}:role/${assumed[3]}`;
}

/** The caller as an object from a principal. */
export function callerFor(principal: string): Caller {
  return { principal, person: personOf(principal) };
}
