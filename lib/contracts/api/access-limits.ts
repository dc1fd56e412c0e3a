/*
 * What the access contracts are made of, apart from their schemas: the request plumbing, the access rules
 * and the bindings store, loaded by every function at init, use them without building the contracts
 * (ADR 0012).
 */

/** The namespace roles, each including the ones before it. */
export const namespaceRoles = ['viewer', 'publisher', 'deployer', 'admin'] as const;

/** A DataKit namespace as paths and bodies name it. */
export const namespacePattern = /^[a-z][a-z0-9-]{0,62}$/;
