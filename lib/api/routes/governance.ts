import { lazyContract, problemResponse, type Route } from '../route-definition.js';

const datasets = lazyContract(() => import('../../contracts/api/datasets.js'));
const deprecations = lazyContract(() => import('../../contracts/api/deprecations.js'));
const governance = lazyContract(() => import('../../contracts/api/governance.js'));
const packages = lazyContract(() => import('../../contracts/api/packages.js'));

/**
 * `governance-api` reads the whole registry, the deployments and the lineage graph for the report, and
 * writes deprecations and announces them: a function of its own, so the registry's read function keeps
 * read-only grants.
 */
export const governanceFunctionNames = ['governance-api'] as const;

export const governanceRoutes = {
  getGovernanceReport: {
    method: 'GET',
    path: '/v1/governance/report',
    function: 'governance-api',
    summary:
      'PII in packages, where it flows (pipeline, lineage, columns), violations and deprecations (json, csv or markdown)',
    tag: 'governance',
    access: { kind: 'read', of: 'namespace', namespace: { query: 'filter.namespace' } },
    query: governance.governanceReportQuerySchema,
    responses: {
      200: {
        description: 'The report (format=csv: text/csv; format=markdown: text/markdown)',
        schema: governance.governanceReportSchema,
      },
      400: problemResponse('Bad query: an unknown filter, or a bad value (errors[].path names it)'),
      422: problemResponse('GOVERNANCE_REPORT_TOO_LARGE: over 5 MiB; narrow it with filters'),
    },
  },
  deprecateDataSet: {
    method: 'POST',
    path: '/v1/datasets/{namespace}/{name}/deprecation',
    function: 'governance-api',
    summary: 'Deprecates a DataSet and announces DataSet Deprecated with every consumer it affects',
    tag: 'governance',
    access: {
      kind: 'write',
      role: 'publisher',
      namespace: { path: 'namespace' },
      action: 'dataset.deprecate',
      target: 'dataset:{path.namespace}/{path.name}',
    },
    pathParameters: datasets.dataSetPathSchema,
    body: deprecations.deprecationBodySchema,
    maxBodyBytes: 16 * 1024,
    responses: {
      201: { description: 'Deprecated', schema: deprecations.deprecationResultSchema },
      200: {
        description: 'Already deprecated: the same reason and sunset change nothing; others replace them',
        schema: deprecations.deprecationResultSchema,
      },
      400: problemResponse('Malformed body (errors[].path names the field)'),
      404: problemResponse('DATASET_NOT_FOUND'),
      409: problemResponse('CONCURRENT_MODIFICATION: deprecated by someone else meanwhile; retry'),
    },
  },
  deprecatePackage: {
    method: 'POST',
    path: '/v1/packages/{namespace}/{name}/deprecation',
    function: 'governance-api',
    summary: 'Deprecates a package and announces Package Deprecated with every consumer it affects',
    tag: 'governance',
    access: {
      kind: 'write',
      role: 'publisher',
      namespace: { path: 'namespace' },
      action: 'package.deprecate',
      target: 'package:{path.namespace}/{path.name}',
    },
    pathParameters: packages.packagePathSchema,
    body: deprecations.deprecationBodySchema,
    maxBodyBytes: 16 * 1024,
    responses: {
      201: { description: 'Deprecated', schema: deprecations.deprecationResultSchema },
      200: {
        description: 'Already deprecated: the same reason and sunset change nothing; others replace them',
        schema: deprecations.deprecationResultSchema,
      },
      400: problemResponse('Malformed body (errors[].path names the field)'),
      404: problemResponse('PACKAGE_NOT_FOUND'),
      409: problemResponse('CONCURRENT_MODIFICATION: deprecated by someone else meanwhile; retry'),
    },
  },
} as const satisfies Record<string, Route<(typeof governanceFunctionNames)[number]>>;
