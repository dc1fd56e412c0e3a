import { lazyContract, problemResponse, type Route } from '../route-definition.js';

const datasets = lazyContract(() => import('../../contracts/api/datasets.js'));
const packages = lazyContract(() => import('../../contracts/api/packages.js'));
const pipeline = lazyContract(() => import('../../contracts/api/pipeline.js'));
const registrations = lazyContract(() => import('../../contracts/api/registrations.js'));

/** `packages-api` serves every registry read; `registrations-api` registers (it pulls from registries and writes). */
export const registryFunctionNames = ['packages-api', 'registrations-api'] as const;

export const registryRoutes = {
  listPackages: {
    method: 'GET',
    path: '/v1/packages',
    function: 'packages-api',
    summary: 'Registered packages, ordered by namespace and name',
    tag: 'packages',
    access: { kind: 'read', of: 'namespaces' },
    query: packages.listPackagesQuerySchema,
    responses: {
      200: { description: 'A page of packages', schema: packages.packagePageSchema },
      400: problemResponse('Bad query'),
    },
  },
  getPackage: {
    method: 'GET',
    path: '/v1/packages/{namespace}/{name}',
    function: 'packages-api',
    summary: 'A package with every registered version',
    tag: 'packages',
    access: { kind: 'read', of: 'namespace', namespace: { path: 'namespace' } },
    pathParameters: packages.packagePathSchema,
    responses: {
      200: { description: 'The package', schema: packages.packageDetailSchema },
      404: problemResponse('PACKAGE_NOT_FOUND'),
    },
  },
  getPackageVersion: {
    method: 'GET',
    path: '/v1/packages/{namespace}/{name}/versions/{version}',
    function: 'packages-api',
    summary: 'One version: manifests, DataSets, connectors, lint results, build info',
    tag: 'packages',
    access: { kind: 'read', of: 'namespace', namespace: { path: 'namespace' } },
    pathParameters: packages.packageVersionPathSchema,
    responses: {
      200: { description: 'The version', schema: packages.packageVersionSchema },
      404: problemResponse('VERSION_NOT_FOUND'),
    },
  },
  createRegistration: {
    method: 'POST',
    path: '/v1/registrations',
    function: 'registrations-api',
    summary: 'Registers the package at a reference (synchronously)',
    tag: 'registrations',
    access: {
      kind: 'write',
      role: 'publisher',
      namespace: 'operation',
      action: 'package.register',
      target: 'artifact:{body.reference}',
    },
    body: registrations.createRegistrationBodySchema,
    maxBodyBytes: 16 * 1024,
    responses: {
      201: {
        description: 'Registered: this request committed the version',
        schema: registrations.registrationRecordSchema,
      },
      200: {
        description: 'Duplicate: the same digest was already registered',
        schema: registrations.registrationRecordSchema,
      },
      400: problemResponse('Malformed body or reference (DK_REF_INVALID)'),
      403: problemResponse(
        'REGISTRY_NOT_ALLOWED (the registry is not on the allowlist) or REGISTRY_HOST_NOT_ALLOWED (a host it redirected to or named as token realm is refused)',
      ),
      409: {
        description: 'Rejected with E021: the version exists with another digest',
        schema: registrations.registrationRecordSchema,
      },
      422: {
        description: 'Rejected: the record lists every problem',
        schema: registrations.registrationRecordSchema,
      },
      503: problemResponse(
        'The registry or storage is unavailable, or the registry did not answer in time; retry',
      ),
    },
  },
  listRegistrations: {
    method: 'GET',
    path: '/v1/registrations',
    function: 'packages-api',
    summary: 'Registration records, newest first',
    tag: 'registrations',
    access: { kind: 'read', of: 'namespaces' },
    query: registrations.listRegistrationsQuerySchema,
    responses: {
      200: { description: 'A page of registrations', schema: registrations.registrationPageSchema },
      400: problemResponse('Bad query'),
    },
  },
  listDataSets: {
    method: 'GET',
    path: '/v1/datasets',
    function: 'packages-api',
    summary: 'DataSets declared or referenced by registered packages',
    tag: 'datasets',
    access: { kind: 'read', of: 'namespaces' },
    query: datasets.listDataSetsQuerySchema,
    responses: {
      200: { description: 'A page of DataSets', schema: datasets.dataSetPageSchema },
      400: problemResponse('Bad query'),
    },
  },
  getDataSet: {
    method: 'GET',
    path: '/v1/datasets/{namespace}/{name}',
    function: 'packages-api',
    summary: 'One DataSet: contract, schema, producers and consumers',
    tag: 'datasets',
    access: { kind: 'read', of: 'namespace', namespace: { path: 'namespace' } },
    pathParameters: datasets.dataSetPathSchema,
    responses: {
      200: { description: 'The DataSet', schema: datasets.dataSetDetailSchema },
      404: problemResponse('DATASET_NOT_FOUND'),
    },
  },
  getPipeline: {
    method: 'GET',
    path: '/v1/pipeline',
    function: 'packages-api',
    summary: 'The dependency graph across registered packages (json, mermaid or dot)',
    tag: 'datasets',
    access: { kind: 'read', of: 'platform' },
    query: pipeline.pipelineQuerySchema,
    responses: {
      200: { description: 'The graph', schema: pipeline.pipelineGraphSchema },
      404: problemResponse('DATASET_NOT_FOUND: the destination is not in the graph'),
    },
  },
} as const satisfies Record<string, Route<(typeof registryFunctionNames)[number]>>;
