import * as z from 'zod';
import { CLASSIFICATIONS } from '../manifests/dataset.js';
import { cellNameSchema } from './cells.js';
import { deprecationSchema } from './deprecations.js';

/** A DataSet's classification as the report filters it; `unclassified` is a DataSet without one. */
export const reportClassificationSchema = z.enum([...CLASSIFICATIONS, 'unclassified']);
export type ReportClassification = z.infer<typeof reportClassificationSchema>;

/** What the report is restricted to (every part optional: the whole registry without a filter). */
export interface GovernanceFilter {
  /** true: only packages that handle PII; false: only those that do not. */
  readonly pii?: boolean | undefined;
  readonly namespace?: string | undefined;
  readonly classification?: ReportClassification | undefined;
  readonly cell?: string | undefined;
}

const namespaceSchema = z.string().min(1).max(253);

/** The keys `filter=` accepts (`pii=true`, `namespace=sales`, …), as `dk governance report --filter` writes them. */
export const governanceFilterKeys = ['pii', 'namespace', 'classification', 'cell'] as const;

const filterValueSchemas = {
  pii: z.enum(['true', 'false']).transform((value) => value === 'true'),
  namespace: namespaceSchema,
  classification: reportClassificationSchema,
  cell: cellNameSchema,
} as const;

function isFilterKey(key: string): key is (typeof governanceFilterKeys)[number] {
  return (governanceFilterKeys as readonly string[]).includes(key);
}

/**
 * `GET /v1/governance/report`: `filter` holds comma-separated `key=value` terms (the seed's
 * `--filter pii=true`); `namespace`, `classification` and `cell` may also be given as parameters of their
 * own. An unknown key, a bad value, or a key given twice with different values is a 400 naming `filter`.
 */
export const governanceReportQuerySchema = z
  .object({
    filter: z.string().min(1).max(1024).optional(),
    namespace: namespaceSchema.optional(),
    classification: reportClassificationSchema.optional(),
    cell: cellNameSchema.optional(),
    format: z.enum(['json', 'csv', 'markdown']).default('json'),
  })
  .transform((query, context) => {
    const filter: { -readonly [K in keyof GovernanceFilter]: GovernanceFilter[K] } = {
      ...(query.namespace === undefined ? {} : { namespace: query.namespace }),
      ...(query.classification === undefined ? {} : { classification: query.classification }),
      ...(query.cell === undefined ? {} : { cell: query.cell }),
    };
    for (const term of (query.filter ?? '').split(',').filter((part) => part.trim() !== '')) {
      const equals = term.indexOf('=');
      const key = (equals < 0 ? term : term.slice(0, equals)).trim();
      if (equals < 0 || !isFilterKey(key)) {
        context.addIssue({
          code: 'custom',
          path: ['filter'],
          message:
            equals < 0
              ? `"${term.trim()}" is not key=value`
              : `unknown filter "${key}"; filters are ${governanceFilterKeys.join(', ')}`,
        });
        continue;
      }
      const parsed = filterValueSchemas[key].safeParse(term.slice(equals + 1).trim());
      if (!parsed.success) {
        context.addIssue({
          code: 'custom',
          path: ['filter'],
          message: `${key}: ${parsed.error.issues[0]?.message ?? 'invalid value'}`,
        });
        continue;
      }
      const value = parsed.data;
      if (filter[key] !== undefined && filter[key] !== value) {
        context.addIssue({
          code: 'custom',
          path: ['filter'],
          message: `${key} is given twice with different values`,
        });
        continue;
      }
      Object.assign(filter, { [key]: value });
    }
    return { filter: filter satisfies GovernanceFilter, format: query.format };
  });

export type GovernanceReportQuery = z.output<typeof governanceReportQuerySchema>;

const dataSetRefSchema = z.object({ namespace: z.string(), name: z.string() });

/** How data gets from one DataSet to another. */
export const flowViaSchema = z.discriminatedUnion('type', [
  /** A Transform whose latest version reads the one and writes the other (the registry's pipeline). */
  z.object({ type: z.literal('transform'), namespace: z.string(), name: z.string(), version: z.string() }),
  /** An OpenLineage job that read the one and (directly or through datasets DataKit does not know) wrote the other. */
  z.object({
    type: z.literal('job'),
    namespace: z.string(),
    name: z.string(),
    /** The cell the written DataSet was resolved in. */
    cell: z.string().optional(),
  }),
  /** A column of the downstream contract names an upstream column in `from` (`from: users.email`). */
  z.object({ type: z.literal('contract') }),
  /** OpenLineage column lineage between the two (no job is recorded for it). */
  z.object({ type: z.literal('column-lineage') }),
]);

export type FlowVia = z.infer<typeof flowViaSchema>;

/** A DataSet of a package in the report, with its classification and what PII it holds or receives. */
export const reportPackageDataSetSchema = z.object({
  namespace: z.string(),
  name: z.string(),
  role: z.enum(['declares', 'reads', 'writes']),
  classification: z.string().optional(),
  /** Fields its contract marks `pii: true`. */
  piiFields: z.array(z.string()),
  /** Downstream of a DataSet with PII fields (along the pipeline, lineage or `from` columns). */
  fedByPii: z.boolean(),
  deprecation: deprecationSchema.optional(),
});

export const reportPackageSchema = z.object({
  namespace: z.string(),
  name: z.string(),
  kind: z.string(),
  version: z.string(),
  labels: z.record(z.string(), z.string()),
  /** Declares, reads or writes a DataSet that holds PII or is fed by it. */
  handlesPii: z.boolean(),
  /** Cells the package is deployed in (any environment). */
  cells: z.array(z.string()),
  dataSets: z.array(reportPackageDataSetSchema),
  deprecation: deprecationSchema.optional(),
});

/** PII moving from one DataSet to another: one entry per pair, with every way it gets there. */
export const piiFlowSchema = z.object({
  from: dataSetRefSchema,
  to: dataSetRefSchema,
  toClassification: z.string().optional(),
  /** The DataSets with PII fields whose data reaches `from` (itself, when it has PII fields). */
  sources: z.array(dataSetRefSchema),
  via: z.array(flowViaSchema),
  /** PII columns of `from` and the columns of `to` computed from them, where column lineage or `from` says so. */
  columns: z.array(z.object({ from: z.string(), to: z.string() })),
});

export type PiiFlow = z.infer<typeof piiFlowSchema>;

export const violationCodes = ['PII_UNDERCLASSIFIED', 'PII_COLUMN_UNMARKED'] as const;

/** A rule the graph breaks. */
export const violationSchema = z.object({
  /**
   * `PII_UNDERCLASSIFIED`: a DataSet fed by PII (or holding it) is classified below confidential, or not
   * at all; `PII_COLUMN_UNMARKED`: a column computed from a PII column is not marked `pii: true`.
   */
  code: z.enum(violationCodes),
  dataset: dataSetRefSchema,
  classification: z.string().optional(),
  /** PII_COLUMN_UNMARKED: the unmarked column. */
  column: z.string().optional(),
  /** Where the PII comes from, nearest first: `namespace/name` or `namespace/name.column`, source first. */
  path: z.array(z.string()).min(1),
  message: z.string(),
});

export type Violation = z.infer<typeof violationSchema>;

/** A deprecated DataSet or package and the packages that still read it. */
export const reportDeprecationSchema = z.object({
  subject: z.enum(['dataset', 'package']),
  namespace: z.string(),
  name: z.string(),
  reason: z.string(),
  sunset: z.string(),
  deprecatedAt: z.string(),
  deprecatedBy: z.string(),
  /** The sunset has passed: new consumers are refused. */
  sunsetPassed: z.boolean(),
  consumers: z.array(z.object({ namespace: z.string(), name: z.string(), version: z.string() })),
});

/** `GET /v1/governance/report` as JSON (csv and markdown render the same content). */
export const governanceReportSchema = z
  .object({
    generatedAt: z.string(),
    filter: z.object({
      pii: z.boolean().optional(),
      namespace: z.string().optional(),
      classification: reportClassificationSchema.optional(),
      cell: z.string().optional(),
    }),
    summary: z.object({
      packages: z.number().int(),
      piiDataSets: z.number().int(),
      flows: z.number().int(),
      violations: z.number().int(),
      deprecations: z.number().int(),
    }),
    packages: z.array(reportPackageSchema),
    flows: z.array(piiFlowSchema),
    violations: z.array(violationSchema),
    deprecations: z.array(reportDeprecationSchema),
    /** How much of the OpenLineage graph was read; incomplete when the walk hit its node budget. */
    lineage: z.object({ complete: z.boolean(), nodesRead: z.number().int() }),
  })
  .meta({ id: 'GovernanceReport' });

export type GovernanceReport = z.infer<typeof governanceReportSchema>;
