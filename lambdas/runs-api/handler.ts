import { idempotencyKeyOf } from '../../lib/api/caller.js';
import { type ApiHandler, createApiHandler } from '../../lib/api/http-handler.js';
import { toApiRun } from '../../lib/domain/runs/runs.js';
import { lambdaDependencies } from '../../lib/runtime/lambda.js';
import { awsRunAdapters } from '../../lib/runtime/wiring/aws-runs.js';
import { createRunPlane, type RunPlane, withRunPlaneBase } from '../../lib/runtime/wiring/runs.js';
import type { SharedDependencies } from '../../lib/runtime/wiring/shared.js';

/** Runs (`/v1/runs`): manual starts, reads, cancel, logs. */
export function createRunsApi(deps: SharedDependencies, plane: RunPlane): ApiHandler {
  const { runs } = plane;
  return createApiHandler(
    'runs-api',
    {
      createRun: async ({ body, headers, caller }) => {
        const run = await runs.start({
          ...body,
          trigger: { type: 'manual' },
          requestedBy: caller.principal,
          idempotencyKey: idempotencyKeyOf(headers),
        });
        return {
          status: 202,
          body: toApiRun(run),
          headers: { location: `/v1/runs/${run.runId}` },
          audit: {
            after: {
              runId: run.runId,
              status: run.status,
              version: run.version,
              env: run.env,
              cell: run.cell,
            },
          },
        };
      },
      listRuns: async ({ query }) => {
        const page = await runs.list(query);
        return { status: 200, body: { ...page, items: page.items.map(toApiRun) } };
      },
      getRun: async ({ path }) => ({ status: 200, body: toApiRun(await runs.get(path.runId)) }),
      cancelRun: async ({ path, caller }) => {
        const before = await runs.get(path.runId);
        const run = await runs.cancel(path.runId, caller.principal);
        return {
          status: 202,
          body: toApiRun(run),
          audit: {
            target: `package:${run.namespace}/${run.name}`,
            before: { runId: before.runId, status: before.status },
            after: { runId: run.runId, status: run.status },
          },
        };
      },
      getRunLogs: async ({ path, query }) => ({
        status: 200,
        body: { runId: path.runId, lines: await runs.logs(path.runId, query.limit) },
      }),
    },
    deps,
  );
}

let instance: Promise<ApiHandler> | undefined;
export const handler: ApiHandler = async (event, context) => {
  instance ??= lambdaDependencies(withRunPlaneBase).then((deps) =>
    createRunsApi(deps, createRunPlane(deps, awsRunAdapters(deps))),
  );
  return (await instance)(event, context);
};
