import { type ApiHandler, createApiHandler } from '../../lib/api/http-handler.js';
import { found, ValidationError } from '../../lib/domain/errors.js';
import { toMarquezNamespace, toMarquezRun } from '../../lib/domain/lineage/marquez.js';
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
      listLineageJobs: async ({ path, query }) => {
        const page = await store.listJobs(path.namespace, query);
        return {
          status: 200,
          body: {
            jobs: page.items.map((stored) => queries.toJob(stored)),
            totalCount: page.totalCount,
          },
        };
      },
      getLineageJob: async ({ path }) => ({
        status: 200,
        body: await queries.jobWithRun(jobNodeId(path.namespace, path.job)),
      }),
      listLineageJobRuns: async ({ path, query }) => {
        const id = jobNodeId(path.namespace, path.job);
        const [job, runs] = await Promise.all([store.getJob(id), store.listRuns(id, query)]);
        found(job, 'JOB_NOT_FOUND', `No job ${path.namespace}:${path.job}.`);
        return { status: 200, body: { runs: runs.map(toMarquezRun) } };
      },
      listLineageDatasets: async ({ path, query }) => {
        const page = await store.listDatasets(path.namespace, query);
        return {
          status: 200,
          body: {
            datasets: page.items.map((stored) => queries.toDataset(stored)),
            totalCount: page.totalCount,
          },
        };
      },
      getLineageDataset: async ({ path }) => ({
        status: 200,
        body: await queries.dataset(path.namespace, path.dataset),
      }),
      getLineageRun: async ({ path }) => {
        const run = found(await store.getRun(path.id.toLowerCase()), 'RUN_NOT_FOUND', `No run ${path.id}.`);
        return { status: 200, body: toMarquezRun(run) };
      },
      searchLineage: async ({ query }) => ({
        status: 200,
        body: await queries.search(query.q, {
          sort: query.sort,
          limit: query.limit,
          ...(query.filter === undefined ? {} : { filter: query.filter }),
          ...(query.namespace === undefined ? {} : { namespace: query.namespace }),
        }),
      }),
      listLineageEvents: async ({ query }) => {
        const page = await store.listRawEvents({
          after: query.after,
          before: query.before,
          ascending: query.sortDirection === 'asc',
          limit: query.limit,
          ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
        });
        return {
          status: 200,
          body: {
            events: page.events,
            totalCount: page.events.length,
            ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }),
          },
        };
      },
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
