import { type ApiHandler, createApiHandler } from '../../lib/api/http-handler.js';
import { found } from '../../lib/domain/errors.js';
import { buildPipelineGraph, renderDot, renderMermaid } from '../../lib/domain/registry/pipeline.js';
import { lambdaDependencies } from '../../lib/runtime/lambda.js';
import { type PackageDependencies, withPackages } from '../../lib/runtime/wiring/packages.js';
import type { SharedDependencies } from '../../lib/runtime/wiring/shared.js';

/** Read access to the package registry: packages, versions, DataSets, the pipeline graph, registrations. */
export function createPackagesApi(deps: SharedDependencies & PackageDependencies): ApiHandler {
  const { packages } = deps;
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
        const graph = found(
          buildPipelineGraph(await packages.pipelineEdges(), destination),
          'DATASET_NOT_FOUND',
          `No DataSet ${destination?.namespace}/${destination?.name} in the pipeline graph is registered.`,
        );
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
