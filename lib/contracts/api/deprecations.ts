import * as z from 'zod';

/**
 * When a deprecated DataSet or package goes away: an ISO date (`2027-06-30`, read as 00:00 UTC that day)
 * or an ISO date-time with its offset. From that instant on, deploys that would add a consumer are refused.
 */
export const sunsetSchema = z.union([z.iso.date(), z.iso.datetime({ offset: true })], {
  error: 'must be an ISO date (2027-06-30) or date-time with an offset (2027-06-30T12:00:00Z)',
});

/** `POST /v1/datasets/{namespace}/{name}/deprecation` and `POST /v1/packages/{namespace}/{name}/deprecation`. */
export const deprecationBodySchema = z.strictObject({
  /** Why, and what to use instead: shown to every consumer (events, reads, deploy warnings). */
  reason: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(1024, 'must be at most 1024 characters')
    .refine((reason) => !/\p{Cc}/u.test(reason), 'must not hold control characters'),
  sunset: sunsetSchema,
});

export type DeprecationBody = z.infer<typeof deprecationBodySchema>;

/** A deprecation as reads show it. */
export const deprecationSchema = z
  .object({
    reason: z.string(),
    sunset: z.string(),
    /** When it was first deprecated with this reason and sunset. */
    deprecatedAt: z.string(),
    /** The caller who deprecated it. */
    deprecatedBy: z.string(),
    /**
     * On a DataSet: the package it inherits the deprecation from (the DataSet package that declares it),
     * absent when the DataSet itself is deprecated.
     */
    package: z.object({ namespace: z.string(), name: z.string() }).optional(),
  })
  .meta({ id: 'Deprecation' });

export type Deprecation = z.infer<typeof deprecationSchema>;

/** A package version that reads a deprecated DataSet, with who owns it and where it is deployed. */
export const affectedConsumerSchema = z.object({
  namespace: z.string(),
  name: z.string(),
  /** Its latest registered version. */
  version: z.string(),
  /** Its `owner` and `team` labels (who to tell). */
  owners: z.record(z.string(), z.string()),
  /** Where a version reading the DataSet is deployed. */
  deployments: z.array(z.object({ env: z.string(), cell: z.string(), version: z.string() })),
});

export type AffectedConsumer = z.infer<typeof affectedConsumerSchema>;

/** Who a deprecation affects: every consumer, the cells they run in, the owners to tell. */
export const deprecationImpactSchema = z.object({
  /** At most 100 consumers are listed; `consumerCount` says how many there are. */
  consumers: z.array(affectedConsumerSchema).max(100),
  consumerCount: z.number().int().nonnegative(),
  /** Every cell a consumer is deployed in. */
  cells: z.array(z.string()),
  /** Every `key=value` owner label of a consumer (`team=analytics`). */
  owners: z.array(z.string()),
});

export type DeprecationImpact = z.infer<typeof deprecationImpactSchema>;

/** The answer of a deprecation request: what is recorded, and whom it affects. */
export const deprecationResultSchema = z
  .object({
    subject: z.enum(['dataset', 'package']),
    namespace: z.string(),
    name: z.string(),
    deprecation: deprecationSchema,
    impact: deprecationImpactSchema,
  })
  .meta({ id: 'DeprecationResult' });

export type DeprecationResult = z.infer<typeof deprecationResultSchema>;
