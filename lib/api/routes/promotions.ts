import { lazyContract, problemResponse, type Route } from '../route-definition.js';

const deployments = lazyContract(() => import('../../contracts/api/deployments.js'));
const packages = lazyContract(() => import('../../contracts/api/packages.js'));
const promotions = lazyContract(() => import('../../contracts/api/promotions.js'));

/** `promotions-api`: promotions and their approvals, rollbacks, deployments and status. */
export const promotionFunctionNames = ['promotions-api'] as const;

type PromotionFunction = (typeof promotionFunctionNames)[number];

const badRequest = problemResponse('Bad path, query or body (the field is named)');

export const promotionRoutes = {
  createPromotion: {
    method: 'POST',
    path: '/v1/promotions',
    function: 'promotions-api',
    summary:
      'Promotes a registered version to an environment and cell: dev deploys at once, int and prod wait for approvals; Idempotency-Key supported',
    tag: 'promotions',
    access: {
      kind: 'write',
      role: 'deployer',
      namespace: { body: 'namespace' },
      action: 'promotion.request',
      target: 'package:{body.namespace}/{body.name}',
    },
    body: promotions.createPromotionBodySchema,
    maxBodyBytes: 16 * 1024,
    responses: {
      201: { description: 'The promotion', schema: promotions.promotionSchema },
      400: badRequest,
      404: problemResponse('VERSION_NOT_FOUND, CELL_NOT_FOUND'),
      409: problemResponse(
        'PROMOTION_ALREADY_OPEN (names the open one), CONCURRENT_MODIFICATION: another deploy of this env × cell won; retry',
      ),
      422: problemResponse(
        'DEPLOY_VERSION_REJECTED, DEPLOY_STORE_MISSING, DEPLOY_DATASET_UNDECLARED, PROMOTION_ENV_UNKNOWN, PROMOTION_ORDER_VIOLATION, GOVERNANCE_PII_FLOW (governed environment: errors[].path is each PII path; give governanceOverride.reason)',
      ),
      503: problemResponse(
        'PIPELINE_UNAVAILABLE: the environment’s pipeline did not start; request again. GOVERNANCE_CHECK_UNAVAILABLE: the PII gate could not read; retry',
      ),
    },
  },
  listPromotions: {
    method: 'GET',
    path: '/v1/promotions',
    function: 'promotions-api',
    summary: 'Promotions, newest first, by package, environment or status',
    tag: 'promotions',
    access: { kind: 'read', of: 'namespaces' },
    query: promotions.listPromotionsQuerySchema,
    responses: {
      200: { description: 'A page of promotions', schema: promotions.promotionPageSchema },
      400: badRequest,
    },
  },
  getPromotion: {
    method: 'GET',
    path: '/v1/promotions/{id}',
    function: 'promotions-api',
    summary: 'One promotion with its approvals and stages',
    tag: 'promotions',
    access: { kind: 'read', of: 'namespace', namespace: { promotion: 'id' } },
    pathParameters: promotions.promotionPathSchema,
    responses: {
      200: { description: 'The promotion', schema: promotions.promotionSchema },
      404: problemResponse('PROMOTION_NOT_FOUND'),
    },
  },
  decidePromotion: {
    method: 'POST',
    path: '/v1/promotions/{id}/approvals',
    function: 'promotions-api',
    summary:
      'Approves or rejects a promotion for one of its required groups: never the requester, one group per person, members only',
    tag: 'promotions',
    access: {
      kind: 'write',
      role: 'approver',
      namespace: { promotion: 'id' },
      action: 'promotion.decide',
      target: 'promotion:{path.id}',
    },
    pathParameters: promotions.promotionPathSchema,
    body: promotions.decidePromotionBodySchema,
    maxBodyBytes: 16 * 1024,
    responses: {
      200: { description: 'The promotion after the decision', schema: promotions.promotionSchema },
      400: problemResponse('APPROVAL_GROUP_AMBIGUOUS: the caller is in several pending groups; name one'),
      403: problemResponse('SELF_APPROVAL, APPROVAL_GROUP_FORBIDDEN (not a member)'),
      404: problemResponse('PROMOTION_NOT_FOUND'),
      409: problemResponse(
        'APPROVER_ALREADY_COUNTED, APPROVAL_GROUP_ALREADY_APPROVED, PROMOTION_ENDED, PROMOTION_NOT_AWAITING_APPROVAL',
      ),
      422: problemResponse('APPROVAL_GROUP_NOT_REQUIRED'),
      503: problemResponse('PIPELINE_UNAVAILABLE: recorded, but the pipeline did not take it; send it again'),
    },
  },
  createRollback: {
    method: 'POST',
    path: '/v1/rollbacks',
    function: 'promotions-api',
    summary:
      'Promotes the version deployed before the current one (or toVersion of the history) back, through the same approvals; Idempotency-Key supported',
    tag: 'promotions',
    access: {
      kind: 'write',
      role: 'deployer',
      namespace: { body: 'namespace' },
      action: 'promotion.rollback',
      target: 'package:{body.namespace}/{body.name}',
    },
    body: promotions.createRollbackBodySchema,
    maxBodyBytes: 16 * 1024,
    responses: {
      201: { description: 'The rollback, a promotion marked as such', schema: promotions.promotionSchema },
      400: badRequest,
      404: problemResponse('DEPLOYMENT_NOT_FOUND, VERSION_NOT_FOUND, CELL_NOT_FOUND'),
      409: problemResponse('PROMOTION_ALREADY_OPEN'),
      422: problemResponse(
        'ROLLBACK_NO_PREVIOUS_VERSION, ROLLBACK_SAME_VERSION, ROLLBACK_VERSION_NOT_IN_HISTORY, DEPLOY_STORE_MISSING, GOVERNANCE_PII_FLOW',
      ),
      503: problemResponse('PIPELINE_UNAVAILABLE, GOVERNANCE_CHECK_UNAVAILABLE'),
    },
  },
  getPackageStatus: {
    method: 'GET',
    path: '/v1/packages/{namespace}/{name}/status',
    function: 'promotions-api',
    summary: 'What is deployed where, per environment × cell, with its promotion and last run (`dk status`)',
    tag: 'promotions',
    access: { kind: 'read', of: 'namespace', namespace: { path: 'namespace' } },
    pathParameters: packages.packagePathSchema,
    responses: {
      200: { description: 'The status rows', schema: deployments.packageStatusSchema },
      404: problemResponse('PACKAGE_NOT_FOUND'),
    },
  },
  listEnvironmentDeployments: {
    method: 'GET',
    path: '/v1/environments/{env}/deployments',
    function: 'promotions-api',
    summary: 'What runs where in an environment, optionally in one cell',
    tag: 'promotions',
    access: { kind: 'read', of: 'namespaces' },
    pathParameters: deployments.environmentPathSchema,
    query: deployments.listDeploymentsQuerySchema,
    responses: {
      200: { description: 'A page of deployments', schema: deployments.deploymentPageSchema },
      400: badRequest,
    },
  },
} as const satisfies Record<string, Route<PromotionFunction>>;
