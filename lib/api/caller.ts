import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ValidationError } from '../domain/errors.js';

/** Who is calling: the authenticated principal and the person behind it (ADR 0006, issue 10). */
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

/** `iam`: API Gateway's IAM caller; `embedded`: the `x-datakit-principal` header from loopback callers. */
export type IdentitySource = 'iam' | 'embedded';

export const embeddedPrincipalHeader = 'x-datakit-principal';
export const defaultEmbeddedPrincipal = 'local-user';

const principalPattern = /^[\x21-\x7e]{1,256}$/u;

/** The person behind an IAM ARN. */
export function personOf(principal: string): string {
  const assumed = /^arn:aws[a-z-]*:sts::\d{12}:assumed-role\/[^/]+\/(.+)$/u.exec(principal);
  if (assumed?.[1] !== undefined) return assumed[1];
  const user = /^arn:aws[a-z-]*:iam::\d{12}:user\/(?:.*\/)?([^/]+)$/u.exec(principal);
  if (user?.[1] !== undefined) return user[1];
  if (/^arn:aws[a-z-]*:iam::\d{12}:root$/u.test(principal)) return 'root';
  return principal;
}

function isLoopback(address: string | undefined): boolean {
  return (
    address === '127.0.0.1' ||
    address === '::1' ||
    address === '::ffff:127.0.0.1' ||
    (address?.startsWith('127.') ?? false)
  );
}

/**
 * The caller of a request. In AWS, API Gateway's IAM authorization says who it is and any
 * `x-datakit-principal` header is ignored; in embedded mode a loopback caller names itself with that
 * header (without it, `local-user`), and a caller from elsewhere is `anonymous`.
 */
export function callerOf(
  event: APIGatewayProxyEvent,
  source: IdentitySource,
  headers: Readonly<Record<string, string>>,
): Caller {
  if (source === 'iam') {
    const principal =
      event.requestContext.identity.userArn ?? event.requestContext.identity.caller ?? 'anonymous';
    return { principal, person: personOf(principal) };
  }
  if (!isLoopback(event.requestContext.identity.sourceIp))
    return { principal: 'anonymous', person: 'anonymous' };
  const named = headers[embeddedPrincipalHeader]?.trim();
  if (named === undefined || named === '')
    return { principal: defaultEmbeddedPrincipal, person: defaultEmbeddedPrincipal };
  if (!principalPattern.test(named)) {
    throw new ValidationError(
      'PRINCIPAL_INVALID',
      `The ${embeddedPrincipalHeader} header must be 1–256 visible ASCII characters.`,
      {
        problems: [
          {
            code: 'PRINCIPAL_INVALID',
            path: `headers.${embeddedPrincipalHeader}`,
            message: '1–256 visible ASCII characters',
          },
        ],
      },
    );
  }
  return { principal: named, person: personOf(named) };
}

/** The `Idempotency-Key` header, if any (at most 255 visible characters). */
export function idempotencyKeyOf(headers: Readonly<Record<string, string>>): string | undefined {
  const key = headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (!/^[\x21-\x7e]{1,255}$/u.test(key)) {
    throw new ValidationError(
      'IDEMPOTENCY_KEY_INVALID',
      'Idempotency-Key must be 1–255 visible ASCII characters.',
      {
        problems: [
          {
            code: 'IDEMPOTENCY_KEY_INVALID',
            path: 'headers.idempotency-key',
            message: '1–255 visible ASCII characters',
          },
        ],
      },
    );
  }
  return key;
}
