import type { Problem } from '../contracts/problem.js';

interface ErrorDetails {
  readonly problems?: readonly Problem[];
  readonly cause?: unknown;
}

/**
 * Base of every error the control plane raises on purpose: a stable machine-readable `code`, a message
 * safe to show the caller, and the individual `problems` (with field paths) when there are several.
 * `lib/api/problem.ts` is the one place that maps these classes to HTTP statuses.
 */
export abstract class DataKitError extends Error {
  readonly problems: readonly Problem[];

  constructor(
    readonly code: string,
    message: string,
    details: ErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.problems = details.problems ?? [];
  }
}

/** The caller's input is malformed or breaks a rule (HTTP 400). */
export class ValidationError extends DataKitError {}

/** The addressed thing does not exist (HTTP 404). */
export class NotFoundError extends DataKitError {}

/** The value, or a NotFoundError with `code` and `message` when there is none. */
export function found<T>(value: T | undefined, code: string, message: string): T {
  if (value === undefined) throw new NotFoundError(code, message);
  return value;
}

/** The request conflicts with the current state, e.g. an immutable version (HTTP 409). */
export class ConflictError extends DataKitError {}

/** Someone else changed the item since it was read (optimistic locking; HTTP 409, safe to retry). */
export class ConcurrentModificationError extends DataKitError {}

/** Well-formed input that cannot be accepted, e.g. an invalid package (HTTP 422). */
export class UnprocessableError extends DataKitError {}

/** The request body is over a documented size limit (HTTP 413). */
export class PayloadTooLargeError extends DataKitError {}

/** The caller is not allowed to reach this resource, e.g. a registry outside the allowlist (HTTP 403). */
export class ForbiddenError extends DataKitError {}

/** A dependency failed in a way worth retrying (HTTP 503). */
export class DependencyUnavailableError extends DataKitError {}
