import * as z from 'zod';
import { manifestKinds } from '../manifests/kinds.js';
import { problemSchema } from '../problem.js';
import { dnsNameSchema, pageSchema, paginationQuerySchema } from './common.js';
import { deprecationSchema } from './deprecations.js';

/** The namespace of a package (and of the DataSets it names) without `metadata.namespace`. */
export const defaultPackageNamespace = 'default';

export const manifestKindSchema = z.enum(manifestKinds);

/** A package as listed: its identity and latest version. */
export const packageSummarySchema = z
  .object({
    namespace: z.string(),
    name: z.string(),
    kind: manifestKindSchema,
    latestVersion: z.string(),
    description: z.string().optional(),
    labels: z.record(z.string(), z.string()),
    updatedAt: z.string(),
  })
  .meta({ id: 'PackageSummary' });

export type PackageSummary = z.infer<typeof packageSummarySchema>;

export const listPackagesQuerySchema = paginationQuerySchema.extend({
  namespace: z.string().min(1).max(253).optional(),
  kind: manifestKindSchema.optional(),
  /** `key=value`: the key ends at the first `=`, the value may hold more. */
  label: z
    .string()
    .regex(/^[^=]+=.*$/, 'must be key=value')
    .transform((selector) => {
      const equals = selector.indexOf('=');
      return { key: selector.slice(0, equals), value: selector.slice(equals + 1) };
    })
    .optional(),
});

export const packagePageSchema = pageSchema(packageSummarySchema).meta({ id: 'PackagePage' });

export const packagePathSchema = z.object({ namespace: z.string().min(1).max(253), name: dnsNameSchema });

/** `GET /v1/packages/{namespace}/{name}/versions/{version}` path parameters. */
export const packageVersionPathSchema = packagePathSchema.extend({ version: z.string().min(1).max(128) });

/** A committed version of a package, as the head lists it. */
export const packageVersionEntrySchema = z
  .object({ version: z.string(), digest: z.string(), registeredAt: z.string() })
  .meta({ id: 'PackageVersionEntry' });

/** A package with every committed version, newest (highest precedence) first. */
export const packageDetailSchema = packageSummarySchema
  .extend({
    versions: z.array(packageVersionEntrySchema),
    /** Set while the package is deprecated. */
    deprecation: deprecationSchema.optional(),
  })
  .meta({ id: 'PackageDetail' });

export type PackageDetail = z.infer<typeof packageDetailSchema>;

/** A DataSet named by a Transform's input or output, resolved in the package's namespace. */
export const dataSetRefSchema = z
  .object({ namespace: z.string(), name: z.string() })
  .meta({ id: 'DataSetRef' });

export type DataSetRef = z.infer<typeof dataSetRefSchema>;

/** A manifest as registered (the YAML as JSON, validated against its kind's contract at registration). */
const registeredManifestSchema = z.record(z.string(), z.unknown());

/** One version: everything registration recorded about it, immutable once committed. */
export const packageVersionSchema = z
  .object({
    namespace: z.string(),
    name: z.string(),
    version: z.string(),
    kind: manifestKindSchema,
    digest: z.string(),
    /** `<registry>/<repository>` the artifact was read from. */
    repository: z.string(),
    tag: z.string().optional(),
    registeredAt: z.string(),
    description: z.string().optional(),
    labels: z.record(z.string(), z.string()),
    /** dk.yaml. */
    manifest: registeredManifestSchema,
    /** DataSet manifests: dk.yaml when it is one, and `dataset/*.yaml`. */
    datasets: z.array(registeredManifestSchema),
    connectors: z.array(registeredManifestSchema),
    datasetGroups: z.array(registeredManifestSchema),
    /** A Transform's named inputs and outputs (label-selector references stay in the manifest only). */
    inputs: z.array(dataSetRefSchema),
    outputs: z.array(dataSetRefSchema),
    lint: z.object({ errors: z.array(problemSchema), warnings: z.array(problemSchema) }),
    buildInfo: z.record(z.string(), z.unknown()),
    annotations: z.record(z.string(), z.string()),
  })
  .meta({ id: 'PackageVersion' });

export type PackageVersion = z.infer<typeof packageVersionSchema>;
