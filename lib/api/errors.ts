import { DataKitError } from '../domain/errors.js';

/** No route has this path (HTTP 404). */
export class RouteNotFoundError extends DataKitError {
  constructor(path: string) {
    super('ROUTE_NOT_FOUND', `No resource is served at ${path}.`);
  }
}

/** The path exists but not with this method (HTTP 405, with an `Allow` header). */
export class MethodNotAllowedError extends DataKitError {
  constructor(
    method: string,
    readonly allow: readonly string[],
  ) {
    super('METHOD_NOT_ALLOWED', `${method} is not allowed here; use ${allow.join(', ')}.`);
  }
}

/** The body is not in a media type this operation accepts (HTTP 415). */
export class UnsupportedMediaTypeError extends DataKitError {}

/** The request line and headers are over the server's limit (HTTP 431). */
export class HeadersTooLargeError extends DataKitError {}

/** The request did not arrive in full within the server's time limit (HTTP 408). */
export class RequestTimeoutError extends DataKitError {}

/** An `Expect` header the server cannot meet (HTTP 417). */
export class ExpectationFailedError extends DataKitError {}
