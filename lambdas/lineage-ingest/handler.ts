import { type ApiHandler, createApiHandler } from '../../lib/api/http-handler.js';
import { readLineageBatch, readLineageEvent } from '../../lib/api/lineage-body.js';
import { maxLineageBodyBytes } from '../../lib/contracts/api/lineage-limits.js';
import type { NormalizedLineageEvent } from '../../lib/contracts/openlineage/parse.js';
import { DataKitError, DependencyUnavailableError } from '../../lib/domain/errors.js';
import { LineageNodeTooLargeError } from '../../lib/domain/lineage/errors.js';
import { makeIngestLineageEvent } from '../../lib/domain/lineage/ingest.js';
import { lambdaDependencies } from '../../lib/runtime/lambda.js';
import { type EventDependencies, withEvents } from '../../lib/runtime/wiring/events.js';
import { type LineageDependencies, withLineage } from '../../lib/runtime/wiring/lineage.js';
import type { SharedDependencies } from '../../lib/runtime/wiring/shared.js';

/** Events of one batch ingested at once. */
const batchConcurrency = 4;

/** OpenLineage ingestion: `POST /api/v1/lineage` and `/api/v1/lineage/batch`. */
export function createLineageIngestApi(
  deps: SharedDependencies & LineageDependencies & EventDependencies,
): ApiHandler {
  const ingest = makeIngestLineageEvent({ store: deps.lineage, events: deps.events, clock: deps.clock });

  // Past the parser, every failure is storage or the bus: a 503 tells producers to retry, and a retry is
  // safe because ingestion is idempotent.
  const accept = async (events: readonly NormalizedLineageEvent[]): Promise<void> => {
    try {
      for (let start = 0; start < events.length; start += batchConcurrency) {
        const outcomes = await Promise.all(events.slice(start, start + batchConcurrency).map(ingest));
        for (const outcome of outcomes) deps.logger.debug('lineage event ingested', { ...outcome });
      }
    } catch (cause) {
      // Refusals keep their status; a node at the item size limit is a 500, since a retry cannot help.
      if (cause instanceof DataKitError || cause instanceof LineageNodeTooLargeError) throw cause;
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
        await accept([readLineageEvent(request, maxLineageBodyBytes)]);
        return { status: 201 };
      },
      postLineageBatch: async (request) => {
        await accept(readLineageBatch(request, maxLineageBodyBytes));
        return { status: 201 };
      },
    },
    deps,
  );
}

let instance: Promise<ApiHandler> | undefined;
export const handler: ApiHandler = async (event, context) => {
  instance ??= lambdaDependencies(withEvents, withLineage).then(createLineageIngestApi);
  return (await instance)(event, context);
};
