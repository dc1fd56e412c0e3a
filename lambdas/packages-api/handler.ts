import { type ApiHandler, createApiHandler } from '../../lib/api/http-handler.js';
import type { Deployment } from '../../lib/contracts/api/deployments.js';
import { buildDeployedPipelineGraph } from '../../lib/domain/deployments/pipeline.js';
import { found } from '../../lib/domain/errors.js';
import { environmentsOf } from '../../lib/domain/promotions/environments.js';
import { buildPipelineGraph, renderDot, renderMermaid } from '../../lib/domain/registry/pipeline.js';
import { lambdaDependencies } from '../../lib/runtime/lambda.js';
import { type PackageDependencies, withPackages } from '../../lib/runtime/wiring/packages.js';
import type { SharedDependencies } from '../../lib/runtime/wiring/shared.js';

/** Read access to the package registry: packages, versions, DataSets, the pipeline graph, registrations. */
export function createPackagesApi(deps: SharedDependencies & PackageDependencies): ApiHandler {
  const { packages } = deps;
  const environments = environmentsOf(deps.config.ENVIRONMENTS).names();
  /** Every deployment of a cell, in one environment or all of them. */
  const deployedIn = async (cell: string, env: string | undefined): Promise<Deployment[]> => {
    const found: Deployment[] = [];
    for (const name of env === undefined ? environments : [env]) {
      let cursor: string | undefined;
      do {
        const page = await deps.deployments.listDeploymentsOfEnvironment(name, { cell, limit: 100, cursor });
        found.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor !== undefined);
    }
    return found;
  };
  return createApiHandler(
    'packages-api',
    {
      listPackages: async ({ query }) => ({ status: 200, body: await packages.list(query) }),
      getPackage: async ({ path }) => ({
        status: 200,
        body: found(
          await packages.get(path.namespace, path.name),
          'PACKAGE_NOT_FOUND',
          `No package ${path.namespace}/${path.name} is registered.`,
        ),
      }),
      getPackageVersion: async ({ path }) => ({
        status: 200,
        body: found(
          await packages.getVersion(path.namespace, path.name, path.version),
          'VERSION_NOT_FOUND',
          `No version ${path.version} of ${path.namespace}/${path.name} is registered.`,
        ),
      }),
      listRegistrations: async ({ query }) => ({
        status: 200,
        body: await packages.listRegistrations(query),
      }),
      listDataSets: async ({ query }) => ({ status: 200, body: await packages.listDataSets(query) }),
      getDataSet: async ({ path }) => ({
        status: 200,
        body: found(
          await packages.getDataSet(path.namespace, path.name),
          'DATASET_NOT_FOUND',
          `No DataSet ${path.namespace}/${path.name} is registered.`,
        ),
      }),
      getPipeline: async ({ query }) => {
        const { destination } = query;
        const graph =
          query.cell === undefined
            ? found(
                buildPipelineGraph(await packages.pipelineEdges(), destination),
                'DATASET_NOT_FOUND',
                `No DataSet ${destination?.namespace}/${destination?.name} in the pipeline graph is registered.`,
              )
            : buildDeployedPipelineGraph(await deployedIn(query.cell, query.env));
        if (query.format === 'mermaid')
          return { status: 200, text: renderMermaid(graph), contentType: 'text/vnd.mermaid' };
        if (query.format === 'dot')
          return { status: 200, text: renderDot(graph), contentType: 'text/vnd.graphviz' };
        return { status: 200, body: graph };
      },
    },
    deps,
  );
}

let instance: Promise<ApiHandler> | undefined;
export const handler: ApiHandler = async (event, context) => {
  instance ??= lambdaDependencies(withPackages).then(createPackagesApi);
  return (await instance)(event, context);
};
