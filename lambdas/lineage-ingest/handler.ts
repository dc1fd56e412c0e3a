import * as z from 'zod';
import { type ApiHandler, createApiHandler } from '../../lib/api/http-handler.js';
import { readLineageBatch, readLineageEvent } from '../../lib/api/lineage-body.js';
import { maxLineageBodyBytes } from '../../lib/contracts/api/lineage-limits.js';
import { DataKitError, DependencyUnavailableError } from '../../lib/domain/errors.js';
import { makeLineageCatalog } from '../../lib/domain/lineage/catalog.js';
import { LineageNodeTooLargeError } from '../../lib/domain/lineage/errors.js';
import {
  type IngestOutcome,
  makeIngestLineageBatch,
  makeIngestLineageEvent,
} from '../../lib/domain/lineage/ingest.js';
import { makeTagging } from '../../lib/domain/lineage/tagging.js';
import { lambdaDependencies } from '../../lib/runtime/lambda.js';
import { type EventDependencies, withEvents } from '../../lib/runtime/wiring/events.js';
import { type LineageDependencies, withLineage } from '../../lib/runtime/wiring/lineage.js';
import type { SharedDependencies } from '../../lib/runtime/wiring/shared.js';

/**
 * Whether a failure past the parser is worth the producer's retry: storage, the blob store or the bus
 * failing is (ingestion is idempotent); a bug is not — a stack overflow, a type error, DynamoDB refusing
 * the request as invalid — and answering 503 to it would have the producer retry an event forever.
 */
function retryable(cause: unknown): boolean {
  if (cause instanceof LineageNodeTooLargeError) return false;
  if (
    cause instanceof RangeError ||
    cause instanceof TypeError ||
    cause instanceof SyntaxError ||
    cause instanceof ReferenceError ||
    cause instanceof z.ZodError
  ) {
    return false;
  }
  return !(cause instanceof Error && cause.name === 'ValidationException');
}

/** OpenLineage ingestion (`POST /api/v1/lineage`, `/api/v1/lineage/batch`) and Marquez's tag writes. */
export function createLineageIngestApi(
  deps: SharedDependencies & LineageDependencies & EventDependencies,
): ApiHandler {
  const use = { store: deps.lineage, events: deps.events, clock: deps.clock };
  const ingest = makeIngestLineageEvent(use);
  const ingestBatch = makeIngestLineageBatch(use);
  const tagging = makeTagging({
    store: deps.lineage,
    catalog: makeLineageCatalog({ store: deps.lineage, clock: deps.clock }),
  });

  // Refusals keep their status; what a retry can fix is a 503, anything else a generic 500 (logged).
  const accept = async (ingesting: () => Promise<readonly IngestOutcome[]>): Promise<void> => {
    try {
      for (const outcome of await ingesting()) deps.logger.debug('lineage event ingested', { ...outcome });
    } catch (cause) {
      if (cause instanceof DataKitError || !retryable(cause)) throw cause;
      throw new DependencyUnavailableError(
        'LINEAGE_STORAGE_UNAVAILABLE',
        'Lineage storage is unavailable; retry.',
        {
          cause,
        },
      );
    }
  };

  return createApiHandler(
    'lineage-ingest',
    {
      postLineageEvent: async (request) => {
        const event = readLineageEvent(request, maxLineageBodyBytes);
        await accept(async () => [await ingest(event)]);
        return { status: 201 };
      },
      postLineageBatch: async (request) => {
        const events = readLineageBatch(request, maxLineageBodyBytes);
        await accept(() => ingestBatch(events));
        return { status: 201 };
      },
      putLineageTag: async ({ path, body }) => ({
        status: 200,
        body: await tagging.putTag(path.tag, body.description),
        audit: {
          after: {
            tag: path.tag,
            ...(body.description === undefined ? {} : { description: body.description }),
          },
        },
      }),
      tagLineageJob: async ({ path }) => ({
        status: 200,
        body: await tagging.tagJob(path.namespace, path.job, path.tag, true),
        audit: { after: { tag: path.tag, tagged: true } },
      }),
      untagLineageJob: async ({ path }) => ({
        status: 200,
        body: await tagging.tagJob(path.namespace, path.job, path.tag, false),
        audit: { after: { tag: path.tag, tagged: false } },
      }),
      tagLineageDataset: async ({ path }) => ({
        status: 200,
        body: await tagging.tagDataset(path.namespace, path.dataset, path.tag, true),
        audit: { after: { tag: path.tag, tagged: true } },
      }),
      untagLineageDataset: async ({ path }) => ({
        status: 200,
        body: await tagging.tagDataset(path.namespace, path.dataset, path.tag, false),
        audit: { after: { tag: path.tag, tagged: false } },
      }),
      tagLineageDatasetField: async ({ path }) => ({
        status: 200,
        body: await tagging.tagField(path.namespace, path.dataset, path.field, path.tag, true),
        audit: { after: { field: path.field, tag: path.tag, tagged: true } },
      }),
      untagLineageDatasetField: async ({ path }) => ({
        status: 200,
        body: await tagging.tagField(path.namespace, path.dataset, path.field, path.tag, false),
        audit: { after: { field: path.field, tag: path.tag, tagged: false } },
      }),
    },
    deps,
  );
}

let instance: Promise<ApiHandler> | undefined;
export const handler: ApiHandler = async (event, context) => {
  instance ??= lambdaDependencies(withEvents, withLineage).then(createLineageIngestApi);
  return (await instance)(event, context);
};
