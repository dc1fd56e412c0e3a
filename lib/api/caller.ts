import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ForbiddenError, ValidationError } from '../domain/errors.js';
import { anonymousPrincipal, type Caller, callerFor } from '../domain/identity/principal.js';

export type { Caller } from '../domain/identity/principal.js';
export { personOf } from '../domain/identity/principal.js';

/** `iam`: API Gateway's IAM caller; `embedded`: the `x-datakit-principal` header from loopback callers. */
export type IdentitySource = 'iam' | 'embedded';

export const embeddedPrincipalHeader = 'x-datakit-principal';
export const defaultEmbeddedPrincipal = 'local-user';

const principalPattern = /^[\x21-\x7e]{1,256}$/u;

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
    return callerFor(
      event.requestContext.identity.userArn ?? event.requestContext.identity.caller ?? anonymousPrincipal,
    );
  }
  if (!isLoopback(event.requestContext.identity.sourceIp)) return callerFor(anonymousPrincipal);
  const named = headers[embeddedPrincipalHeader]?.trim();
  if (named === undefined || named === '') return callerFor(defaultEmbeddedPrincipal);
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
  return callerFor(named);
}

/**
 * Every mutating request has a principal: an unauthenticated caller (embedded mode from a non-loopback
 * address; in AWS, IAM authorization never lets one through) is refused before the operation runs.
 */
export function requirePrincipal(caller: Caller): Caller {
  if (caller.principal === anonymousPrincipal) {
    throw new ForbiddenError(
      'PRINCIPAL_REQUIRED',
      'This operation changes state and needs an authenticated caller: sign the request (AWS) or call the embedded control plane from loopback.',
    );
  }
  return caller;
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
