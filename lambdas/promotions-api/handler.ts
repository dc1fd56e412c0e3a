import { idempotencyKeyOf } from '../../lib/api/caller.js';
import { type ApiHandler, createApiHandler } from '../../lib/api/http-handler.js';
import type { PromotionRecord } from '../../lib/ports/deployment-store.js';
import { lambdaDependencies } from '../../lib/runtime/lambda.js';
import { awsRunAdapters } from '../../lib/runtime/wiring/aws-runs.js';
import { createRunPlane, type RunPlane, withRunPlaneBase } from '../../lib/runtime/wiring/runs.js';
import type { SharedDependencies } from '../../lib/runtime/wiring/shared.js';

const strip = <T extends { revision: number }>({ revision: _revision, ...rest }: T) => rest;

/** What the audit trail keeps of a promotion: enough to say what was asked and where it stands. */
const summary = (promotion: PromotionRecord) => ({
  promotionId: promotion.id,
  status: promotion.status,
  version: promotion.version,
  env: promotion.env,
  cell: promotion.cell,
  approvals: promotion.approvals.map(({ group, decision, person }) => ({ group, decision, person })),
  ...(promotion.rollback === undefined ? {} : { rollback: promotion.rollback }),
  ...(promotion.override === undefined ? {} : { override: promotion.override }),
});

const created = (promotion: PromotionRecord) => ({
  status: 201,
  body: strip(promotion),
  headers: { location: `/v1/promotions/${promotion.id}` },
  audit: { after: summary(promotion) },
});

/** Promotions, approvals, rollbacks, deployments and status (`/v1/promotions`, `/v1/rollbacks`, …). */
export function createPromotionsApi(deps: SharedDependencies, plane: RunPlane): ApiHandler {
  const { promotions } = plane;
  return createApiHandler(
    'promotions-api',
    {
      createPromotion: async ({ body, headers, caller }) =>
        created(
          await promotions.request({
            ...body,
            requestedBy: caller,
            idempotencyKey: idempotencyKeyOf(headers),
          }),
        ),
      listPromotions: async ({ query }) => {
        const page = await promotions.list(query);
        return { status: 200, body: { ...page, items: page.items.map(strip) } };
      },
      getPromotion: async ({ path }) => ({ status: 200, body: strip(await promotions.get(path.id)) }),
      decidePromotion: async ({ path, body, caller }) => {
        const before = await plane.deployments.getPromotion(path.id);
        const after = await promotions.decide({ promotionId: path.id, ...body, caller });
        return {
          status: 200,
          body: strip(after),
          audit: {
            target: `package:${after.namespace}/${after.name}`,
            after: summary(after),
            ...(before === undefined ? {} : { before: summary(before) }),
          },
        };
      },
      createRollback: async ({ body, headers, caller }) =>
        created(
          await promotions.rollback({
            ...body,
            requestedBy: caller,
            idempotencyKey: idempotencyKeyOf(headers),
          }),
        ),
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
