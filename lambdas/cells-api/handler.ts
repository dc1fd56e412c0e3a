import { type ApiHandler, createApiHandler } from '../../lib/api/http-handler.js';
import { maxStoreManifestBytes } from '../../lib/api/routes/runs.js';
import { readManifestBody } from '../../lib/api/store-body.js';
import { lambdaDependencies } from '../../lib/runtime/lambda.js';
import { awsRunAdapters } from '../../lib/runtime/wiring/aws-runs.js';
import { createRunPlane, type RunPlane, withRunPlaneBase } from '../../lib/runtime/wiring/runs.js';
import type { SharedDependencies } from '../../lib/runtime/wiring/shared.js';

/** Cells and their Stores (`/v1/cells`). */
export function createCellsApi(deps: SharedDependencies, plane: RunPlane): ApiHandler {
  const { cells } = plane;
  return createApiHandler(
    'cells-api',
    {
      listCells: async ({ query }) => ({ status: 200, body: await cells.listCells(query) }),
      getCell: async ({ path }) => ({ status: 200, body: await cells.getCell(path.cell) }),
      putCell: async ({ path, body }) => {
        const { cell, created, previous } = await cells.putCell(path.cell, body);
        const after = {
          labels: cell.labels,
          ...(cell.description === undefined ? {} : { description: cell.description }),
        };
        return {
          status: created ? 201 : 200,
          body: cell,
          audit: { after, ...(previous === undefined ? {} : { before: previous }) },
        };
      },
      listCellStores: async ({ path }) => ({
        status: 200,
        body: { items: await cells.listStores(path.cell) },
      }),
      getCellStore: async ({ path }) => ({ status: 200, body: await cells.getStore(path.cell, path.store) }),
      putCellStore: async (request) => {
        const text = readManifestBody(request, maxStoreManifestBytes);
        const { store, created, previous } = await cells.putStore(
          request.path.cell,
          request.path.store,
          text,
        );
        // The manifest holds secret names only, never values: it is the state to record.
        return {
          status: created ? 201 : 200,
          body: store,
          audit: {
            after: store.manifest,
            ...(previous === undefined ? {} : { before: previous.manifest }),
          },
        };
      },
    },
    deps,
  );
}

let instance: Promise<ApiHandler> | undefined;
export const handler: ApiHandler = async (event, context) => {
  instance ??= lambdaDependencies(withRunPlaneBase).then((deps) =>
    createCellsApi(deps, createRunPlane(deps, awsRunAdapters(deps))),
  );
  return (await instance)(event, context);
};
