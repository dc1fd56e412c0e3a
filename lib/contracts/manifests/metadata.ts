import * as z from 'zod';

/** The only apiVersion the v1alpha1 JSON Schemas accept. */
export const API_VERSION = 'datakit.infoblox.dev/v1alpha1';

// The JSON Schemas' patterns, compiled with the `u` flag because that is how ajv (and so `dk`) evaluates them.
export const NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/u;
/** Semver as the Transform and DataSet schemas spell it (leading zeros allowed, no `-` inside pre-release). */
export const LOOSE_SEMVER_PATTERN = /^\d+\.\d+\.\d+(-[a-zA-Z0-9.]+)?(\+[a-zA-Z0-9.]+)?$/u;
/** Semver as the Connector schema spells it (semver.org numbers, `-` allowed inside pre-release and build). */
export const STRICT_SEMVER_PATTERN =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[a-zA-Z0-9.-]+)?(\+[a-zA-Z0-9.-]+)?$/u;

export const apiVersionSchema = z.literal(API_VERSION);

/** `metadata.name`: DNS-safe, lowercase, at most 63 characters. */
export const manifestNameSchema = z.string().regex(NAME_PATTERN);

/** `labels` / `annotations` / `tags`: string values only. */
export const stringMapSchema = z.record(z.string(), z.string());

/** An object that may hold any keys (JSON Schema `type: object` without `additionalProperties: false`). */
export const openObjectSchema = z.looseObject({});

/** Predicate for `when`: lets a cross-field rule run even after a sibling field failed, so every problem is reported. */
export function isPlainObject(payload: { value: unknown }): boolean {
  const { value } = payload;
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON Schema `minItems: 1` + `uniqueItems: true` over strings; a duplicate is reported at its own index. */
export function nonEmptyUniqueArray<T extends z.ZodType<string>>(item: T, what: string) {
  return z
    .array(item)
    .min(1)
    .superRefine((items, ctx) => {
      const firstIndex = new Map<string, number>();
      items.forEach((value, index) => {
        const first = firstIndex.get(value);
        if (first === undefined) {
          firstIndex.set(value, index);
        } else {
          ctx.addIssue({
            code: 'custom',
            path: [index],
            message: `duplicate ${what} "${value}" (already at index ${first})`,
          });
        }
      });
    });
}

/** `metadata` of the kinds that carry a version of their own (Transform, DataSet), as their schemas say. */
export const versionedMetadataSchema = z.strictObject({
  name: manifestNameSchema,
  namespace: z.string().optional(),
  version: z.string().regex(LOOSE_SEMVER_PATTERN).optional(),
  labels: stringMapSchema.optional(),
  annotations: stringMapSchema.optional(),
});
