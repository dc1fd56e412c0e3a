import * as z from 'zod';
import { normalizeEventTime } from '../openlineage/event-time.js';
import { isTimeZone } from '../time-zone.js';
import { maxLineageDepth } from './lineage-limits.js';

// DTOs of the lineage API. The Marquez-compatible reads answer Marquez's JSON shapes
// (../shared/marquez/openapi.yml); these schemas document them in /openapi.json and type the queries.
// Nested Marquez objects (facets, run data) are open: producers put arbitrary JSON there.

export { maxLineageBatchEvents, maxLineageBodyBytes, maxLineageDepth } from './lineage-limits.js';

const name = z.string().min(1).max(4096);
const depth = z.coerce.number().int().min(0).max(maxLineageDepth).default(20);
const booleanText = z
  .enum(['true', 'false'])
  .default('false')
  .transform((value) => value === 'true');

/** Marquez pages with `limit` and `offset`. */
export const marquezPagingSchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).max(10_000).default(0),
});

export const namespacePathSchema = z.object({ namespace: name });
export const jobPathSchema = z.object({ namespace: name, job: name });
export const datasetPathSchema = z.object({ namespace: name, dataset: name });
/** A run id: a UUID, or any id a producer sent (read as the UUID Marquez maps it to). */
export const runPathSchema = z.object({ id: z.string().min(1).max(4096) });
export const datasetVersionPathSchema = datasetPathSchema.extend({ version: z.string().min(1).max(256) });

const tag = z.string().trim().min(1).max(255);
export const tagPathSchema = z.object({ tag });
export const jobTagPathSchema = jobPathSchema.extend({ tag });
export const datasetTagPathSchema = datasetPathSchema.extend({ tag });
export const fieldTagPathSchema = datasetPathSchema.extend({ field: name, tag });
/** `PUT /tags/{tag}`: the tag's description. */
export const tagBodySchema = z.object({ description: z.string().max(4096).optional() });

const runStates = ['NEW', 'RUNNING', 'COMPLETED', 'FAILED', 'ABORTED'] as const;

/** `GET /jobs` and a namespace's jobs: Marquez's paging, and `lastRunStates` (comma-separated, any case). */
export const jobsQuerySchema = marquezPagingSchema.extend({
  lastRunStates: z
    .string()
    .transform((text) =>
      text
        .split(',')
        .map((state) => state.trim().toUpperCase())
        .filter((state) => state !== ''),
    )
    .pipe(z.array(z.enum(runStates)))
    .optional(),
});

/** `GET /jobs/runs/{id}/facets?type=run|job`. */
export const runFacetsQuerySchema = z.object({
  type: z
    .string()
    .transform((value) => value.toLowerCase())
    .pipe(z.enum(['run', 'job'])),
});

/** `GET /stats/{subject}`. */
export const statsPathSchema = z.object({
  subject: z.enum(['lineage-events', 'jobs', 'datasets', 'sources']),
});
export const statsQuerySchema = z.object({
  period: z
    .string()
    .transform((value) => value.toUpperCase())
    .pipe(z.enum(['DAY', 'WEEK'])),
  /** An IANA time zone (`Europe/Berlin`); the days of `WEEK` are its days. */
  timezone: z
    .string()
    .max(64)
    .refine(isTimeZone, { message: 'must be an IANA time zone name' })
    .default('UTC'),
});

export const lineageQuerySchema = z.object({ nodeId: z.string().min(1).max(8192), depth });
export const columnLineageQuerySchema = lineageQuerySchema.extend({ withDownstream: booleanText });

export const searchQuerySchema = z.object({
  q: z.string().min(1).max(1024),
  filter: z
    .string()
    .transform((value) => value.toLowerCase())
    .pipe(z.enum(['dataset', 'job']))
    .optional(),
  // Marquez's own spelling of the sort by update time is UPDATE_AT (its web UI sends it).
  sort: z
    .string()
    .transform((value) => {
      const lower = value.toLowerCase();
      return lower === 'update_at' ? 'updated_at' : lower;
    })
    .pipe(z.enum(['name', 'updated_at']))
    .default('name'),
  limit: z.coerce.number().int().min(1).max(100).default(10),
  namespace: z.string().min(1).max(4096).optional(),
});

/**
 * An ISO-8601 date-time read the way event times are (any precision, zone-less means UTC), as the UTC
 * ISO string events are keyed by. Years 0000–9999 only: the keys compare as text, which holds for
 * four-digit years, and a JavaScript date cannot even hold some six-digit ones.
 */
const instant = z.string().transform((text, context) => {
  const normalized = normalizeEventTime(text);
  if (normalized !== undefined && /^\d{4}-/.test(normalized)) return normalized;
  context.addIssue({
    code: 'custom',
    message: 'must be an ISO-8601 date-time between years 0000 and 9999',
  });
  return z.NEVER;
});

export const lineageEventsQuerySchema = z
  .object({
    /** Events at or before this instant (a UTC ISO string once parsed); by default the last one. */
    before: instant.default('9999-12-31T23:59:59.999Z'),
    /** Events at or after this instant (a UTC ISO string once parsed); by default the first one. */
    after: instant.default('0000-01-01T00:00:00.000Z'),
    sortDirection: z
      .string()
      .transform((value) => value.toLowerCase())
      .pipe(z.enum(['asc', 'desc']))
      .default('desc'),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    /** Events skipped first (Marquez's paging). */
    offset: z.coerce.number().int().min(0).max(10_000).default(0),
    /** The opaque `nextCursor` of the previous page (keyset pagination). */
    cursor: z.string().min(1).max(2048).optional(),
  })
  // ISO strings with four-digit years compare as the instants do.
  .refine(({ after, before }) => after <= before, {
    path: ['after'],
    message: 'must not be later than before',
  });

export const jobLineagePathSchema = z.object({ namespace: name, name });
export const jobLineageQuerySchema = z.object({
  depth,
  direction: z.enum(['upstream', 'downstream', 'both']).default('both'),
});

const edge = z.object({ origin: z.string(), destination: z.string() });
const open = z.record(z.string(), z.unknown());

export const marquezNamespaceSchema = z
  .object({
    name: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
    ownerName: z.string(),
    description: z.string().nullable(),
    isHidden: z.boolean(),
  })
  .meta({ id: 'MarquezNamespace' });

export const marquezRunSchema = z
  .looseObject({
    id: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
    state: z.enum(['NEW', 'RUNNING', 'COMPLETED', 'FAILED', 'ABORTED']),
    startedAt: z.string().nullable(),
    endedAt: z.string().nullable(),
    durationMs: z.number().nullable(),
    facets: open,
  })
  .meta({ id: 'MarquezRun' });

export const marquezJobSchema = z
  .looseObject({
    id: z.object({ namespace: z.string(), name: z.string() }),
    type: z.enum(['BATCH', 'STREAM', 'SERVICE']),
    name: z.string(),
    namespace: z.string(),
    inputs: z.array(z.object({ namespace: z.string(), name: z.string() })),
    outputs: z.array(z.object({ namespace: z.string(), name: z.string() })),
    latestRun: marquezRunSchema.nullable(),
    latestRuns: z.array(marquezRunSchema),
    facets: open,
    labels: z.array(z.string()),
    tags: z.array(z.string()),
  })
  .meta({ id: 'MarquezJob' });

export const marquezDatasetSchema = z
  .looseObject({
    id: z.object({ namespace: z.string(), name: z.string() }),
    type: z.enum(['DB_TABLE', 'STREAM']),
    name: z.string(),
    namespace: z.string(),
    fields: z.array(open),
    tags: z.array(z.string()),
    facets: open,
    columnLineage: z.array(open).nullable(),
  })
  .meta({ id: 'MarquezDataset' });

export const marquezDatasetVersionSchema = z
  .looseObject({
    id: z.object({ namespace: z.string(), name: z.string(), version: z.string() }),
    version: z.string(),
    createdAt: z.string(),
    fields: z.array(open),
    createdByRun: marquezRunSchema.nullable(),
    facets: open,
  })
  .meta({ id: 'MarquezDatasetVersion' });
export const marquezDatasetVersionListSchema = z
  .object({ versions: z.array(marquezDatasetVersionSchema), totalCount: z.number().int() })
  .meta({ id: 'MarquezDatasetVersionList' });

export const marquezTagSchema = z
  .object({ name: z.string(), description: z.string().nullable() })
  .meta({ id: 'MarquezTag' });
export const marquezTagListSchema = z
  .object({ tags: z.array(marquezTagSchema) })
  .meta({ id: 'MarquezTagList' });

export const marquezRunFacetsSchema = z
  .object({ runId: z.string(), facets: open })
  .meta({ id: 'MarquezRunFacets' });

export const marquezStatsSchema = z
  .array(
    z.union([
      z.object({
        startInterval: z.string(),
        endInterval: z.string(),
        fail: z.number().int(),
        start: z.number().int(),
        complete: z.number().int(),
        abort: z.number().int(),
      }),
      z.object({ startInterval: z.string(), endInterval: z.string(), count: z.number().int() }),
    ]),
  )
  .meta({ id: 'MarquezStats' });

export const marquezNamespaceListSchema = z
  .object({ namespaces: z.array(marquezNamespaceSchema) })
  .meta({ id: 'MarquezNamespaceList' });
export const marquezJobListSchema = z
  .object({ jobs: z.array(marquezJobSchema), totalCount: z.number() })
  .meta({ id: 'MarquezJobList' });
export const marquezDatasetListSchema = z
  .object({ datasets: z.array(marquezDatasetSchema), totalCount: z.number() })
  .meta({ id: 'MarquezDatasetList' });
export const marquezRunListSchema = z
  .object({ runs: z.array(marquezRunSchema), totalCount: z.number().int() })
  .meta({ id: 'MarquezRunList' });

export const marquezLineageGraphSchema = z
  .object({
    graph: z.array(
      z.object({
        id: z.string(),
        type: z.enum(['JOB', 'DATASET', 'DATASET_FIELD']),
        data: open,
        inEdges: z.array(edge),
        outEdges: z.array(edge),
      }),
    ),
  })
  .meta({ id: 'MarquezLineageGraph' });

export const marquezSearchResultsSchema = z
  .object({
    totalCount: z.number().int(),
    results: z.array(
      z.object({
        type: z.enum(['DATASET', 'JOB']),
        name: z.string(),
        updatedAt: z.string(),
        namespace: z.string(),
        nodeId: z.string(),
      }),
    ),
  })
  .meta({ id: 'MarquezSearchResults' });

export const lineageEventListSchema = z
  .object({ events: z.array(open), totalCount: z.number().int(), nextCursor: z.string().optional() })
  .meta({ id: 'LineageEventList' });

const viewNode = z.object({ namespace: z.string(), name: z.string(), distance: z.number().int() });
const viewSide = z.object({ datasets: z.array(viewNode), jobs: z.array(viewNode) });

export const jobLineageViewSchema = z
  .object({
    job: z.object({ namespace: z.string(), name: z.string() }),
    depth: z.number().int(),
    direction: z.enum(['upstream', 'downstream', 'both']),
    upstream: viewSide,
    downstream: viewSide,
    edges: z.array(edge),
    lastRun: z
      .object({
        runId: z.string(),
        status: z.enum(['NEW', 'RUNNING', 'COMPLETED', 'FAILED', 'ABORTED']),
        startedAt: z.string().nullable(),
        finishedAt: z.string().nullable(),
        durationMs: z.number().nullable(),
      })
      .nullable(),
  })
  .meta({ id: 'JobLineageView' });
