import { type ApiHandler, createApiHandler } from '../../lib/api/http-handler.js';
import { runIdToUuid } from '../../lib/contracts/openlineage/run-id.js';
import { found, ValidationError } from '../../lib/domain/errors.js';
import { makeLineageCatalog } from '../../lib/domain/lineage/catalog.js';
import { toMarquezNamespace } from '../../lib/domain/lineage/marquez.js';
import {
  datasetNodeId,
  jobNodeId,
  type ParsedNodeId,
  parseNodeId,
} from '../../lib/domain/lineage/node-id.js';
import { makeLineageQueries } from '../../lib/domain/lineage/queries.js';
import { lambdaDependencies } from '../../lib/runtime/lambda.js';
import { type LineageDependencies, withLineage } from '../../lib/runtime/wiring/lineage.js';
import type { SharedDependencies } from '../../lib/runtime/wiring/shared.js';

function nodeIdOf(value: string): ParsedNodeId {
  const parsed = parseNodeId(value);
  if (!parsed.ok) {
    throw new ValidationError(parsed.problem.code, parsed.problem.message, {
      problems: [{ ...parsed.problem, path: 'query.nodeId' }],
    });
  }
  return parsed.id;
}

/** The Marquez-compatible lineage reads and the `dk lineage` view. */
export function createLineageApi(deps: SharedDependencies & LineageDependencies): ApiHandler {
  const store = deps.lineage;
  const queries = makeLineageQueries({ store });
  const catalog = makeLineageCatalog({ store, clock: deps.clock });
  return createApiHandler(
    'lineage-api',
    {
      getLineage: async ({ query }) => {
        const node = nodeIdOf(query.nodeId);
        if (node.kind === 'datasetField') {
          throw new ValidationError(
            'LINEAGE_NODE_ID_INVALID',
            'Use /api/v1/column-lineage for dataset fields.',
            {
              problems: [
                {
                  code: 'LINEAGE_NODE_ID_INVALID',
                  path: 'query.nodeId',
                  message: 'a job or dataset node id',
                },
              ],
            },
          );
        }
        const id =
          node.kind === 'job'
            ? jobNodeId(node.namespace, node.name)
            : datasetNodeId(node.namespace, node.name);
        return { status: 200, body: await queries.lineage(id, query.depth) };
      },
      getColumnLineage: async ({ query }) => ({
        status: 200,
        body: await queries.columnLineage(nodeIdOf(query.nodeId), query.depth, query.withDownstream),
      }),
      listLineageNamespaces: async ({ query }) => ({
        status: 200,
        body: { namespaces: (await store.listNamespaces(query)).map(toMarquezNamespace) },
      }),
      getLineageNamespace: async ({ path }) => {
        const namespace = found(
          await store.getNamespace(path.namespace),
          'NAMESPACE_NOT_FOUND',
          `No namespace ${path.namespace}.`,
        );
        return { status: 200, body: toMarquezNamespace(namespace) };
      },
      listAllLineageJobs: async ({ query }) => ({
        status: 200,
        body: await catalog.jobs(undefined, query, query.lastRunStates),
      }),
      listLineageJobs: async ({ path, query }) => ({
        status: 200,
        body: await catalog.jobs(path.namespace, query, query.lastRunStates),
      }),
      getLineageJob: async ({ path }) => ({ status: 200, body: await catalog.job(path.namespace, path.job) }),
      listLineageJobRuns: async ({ path, query }) => ({
        status: 200,
        body: await catalog.runs(path.namespace, path.job, query),
      }),
      listLineageDatasets: async ({ path, query }) => ({
        status: 200,
        body: await catalog.datasets(path.namespace, query),
      }),
      getLineageDataset: async ({ path }) => ({
        status: 200,
        body: await catalog.dataset(path.namespace, path.dataset),
      }),
      listLineageDatasetVersions: async ({ path, query }) => ({
        status: 200,
        body: await catalog.datasetVersions(path.namespace, path.dataset, query),
      }),
      getLineageDatasetVersion: async ({ path }) => ({
        status: 200,
        body: await catalog.datasetVersion(path.namespace, path.dataset, path.version),
      }),
      // A run id is read as ingestion reads it: the UUID a producer's non-UUID run id maps to.
      getLineageRun: async ({ path }) => ({ status: 200, body: await catalog.run(runIdToUuid(path.id)) }),
      getLineageRunFacets: async ({ path, query }) => ({
        status: 200,
        body: await catalog.runFacets(runIdToUuid(path.id), query.type),
      }),
      listLineageTags: async ({ query }) => ({ status: 200, body: await catalog.tags(query) }),
      getLineageStats: async ({ path, query }) => ({
        status: 200,
        body: await catalog.stats(path.subject, query.period, query.timezone),
      }),
      searchLineage: async ({ query }) => ({
        status: 200,
        body: await queries.search(query.q, {
          sort: query.sort,
          limit: query.limit,
          ...(query.filter === undefined ? {} : { filter: query.filter }),
          ...(query.namespace === undefined ? {} : { namespace: query.namespace }),
        }),
      }),
      listLineageEvents: async ({ query }) => ({
        status: 200,
        body: await catalog.events({
          after: query.after,
          before: query.before,
          ascending: query.sortDirection === 'asc',
          limit: query.limit,
          offset: query.offset,
          ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
        }),
      }),
      getJobLineageView: async ({ path, query }) => ({
        status: 200,
        body: await queries.jobLineageView(path.namespace, path.name, query.depth, query.direction),
      }),
    },
    deps,
  );
}

let instance: Promise<ApiHandler> | undefined;
export const handler: ApiHandler = async (event, context) => {
  instance ??= lambdaDependencies(withLineage).then(createLineageApi);
  return (await instance)(event, context);
};
