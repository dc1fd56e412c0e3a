import { callerOf, idempotencyKeyOf } from '../../lib/api/caller.js';
import { type ApiHandler, createApiHandler } from '../../lib/api/http-handler.js';
import { found } from '../../lib/domain/errors.js';
import { lambdaDependencies } from '../../lib/runtime/lambda.js';
import { awsRunAdapters } from '../../lib/runtime/wiring/aws-runs.js';
import { createRunPlane, type RunPlane, withRunPlaneBase } from '../../lib/runtime/wiring/runs.js';
import type { SharedDependencies } from '../../lib/runtime/wiring/shared.js';

/** Promotions, deployments and status (`/v1/promotions`, `…/status`, `/v1/environments/…`). */
export function createPromotionsApi(deps: SharedDependencies, plane: RunPlane): ApiHandler {
  const identity = deps.config.IDENTITY_SOURCE;
  const strip = <T extends { revision: number }>({ revision: _revision, ...rest }: T) => rest;
  return createApiHandler(
    'promotions-api',
    {
      createPromotion: async ({ body, headers, event }) => {
        const promotion = await plane.requestPromotion({
          ...body,
          requestedBy: callerOf(event, identity, headers),
          idempotencyKey: idempotencyKeyOf(headers),
        });
        return {
          status: 201,
          body: strip(promotion),
          headers: { location: `/v1/promotions/${promotion.id}` },
        };
      },
      listPromotions: async ({ query }) => {
        const page = await plane.deployments.listPromotions(query);
        return { status: 200, body: { ...page, items: page.items.map(strip) } };
      },
      getPromotion: async ({ path }) => ({
        status: 200,
        body: strip(
          found(
            await plane.deployments.getPromotion(path.id),
            'PROMOTION_NOT_FOUND',
            `No promotion ${path.id}.`,
          ),
        ),
      }),
      getPackageStatus: async ({ path }) => ({
        status: 200,
        body: await plane.packageStatus(path.namespace, path.name),
      }),
      listEnvironmentDeployments: async ({ path, query }) => {
        const page = await plane.deployments.listDeploymentsOfEnvironment(path.env, query);
        return { status: 200, body: { ...page, items: page.items.map(strip) } };
      },
    },
    deps,
  );
}

let instance: Promise<ApiHandler> | undefined;
export const handler: ApiHandler = async (event, context) => {
  instance ??= lambdaDependencies(withRunPlaneBase).then((deps) =>
    createPromotionsApi(deps, createRunPlane(deps, awsRunAdapters(deps))),
  );
  return (await instance)(event, context);
};
