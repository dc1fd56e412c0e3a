/**
 * The five manifest kinds. A module without schemas: what stores and readers need of the kinds at load,
 * without building the contracts that name them (ADR 0012).
 */
export const manifestKinds = ['Transform', 'DataSet', 'DataSetGroup', 'Connector', 'Store'] as const;
