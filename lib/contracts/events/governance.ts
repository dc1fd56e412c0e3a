import * as z from 'zod';
import { deprecationImpactSchema } from '../api/deprecations.js';
import { manifestKindSchema } from '../api/packages.js';

/** What both deprecation events carry about the deprecation itself. */
const deprecationFields = {
  namespace: z.string(),
  name: z.string(),
  reason: z.string(),
  sunset: z.string(),
  deprecatedAt: z.string(),
  deprecatedBy: z.string(),
};

/**
 * Detail of `DataSet Deprecated`: a DataSet was deprecated (or its reason or sunset changed), with every
 * consumer package (owner labels, where it is deployed), cell and owner it affects.
 */
export const dataSetDeprecatedSchema = z
  .object({ ...deprecationFields, ...deprecationImpactSchema.shape })
  .meta({ id: 'DataSetDeprecatedDetail' });

export type DataSetDeprecated = z.infer<typeof dataSetDeprecatedSchema>;

/**
 * Detail of `Package Deprecated`: a package was deprecated. `dataSets` are the DataSets it declares or
 * writes (its latest version); the consumers are those of these DataSets; `deployments` are where the
 * package itself runs.
 */
export const packageDeprecatedSchema = z
  .object({
    ...deprecationFields,
    kind: manifestKindSchema,
    dataSets: z.array(z.object({ namespace: z.string(), name: z.string() })),
    deployments: z.array(z.object({ env: z.string(), cell: z.string(), version: z.string() })),
    ...deprecationImpactSchema.shape,
  })
  .meta({ id: 'PackageDeprecatedDetail' });

export type PackageDeprecated = z.infer<typeof packageDeprecatedSchema>;
