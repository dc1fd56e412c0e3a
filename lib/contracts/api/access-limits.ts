/**
 * A DataKit namespace as paths and bodies name it: apart from its schema, so that the request plumbing,
 * loaded by every function at init, can check one without loading the access contracts (ADR 0012).
 */
export const namespacePattern = /^[a-z][a-z0-9-]{0,62}$/;
