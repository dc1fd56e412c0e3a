import { maxLineageBodyBytes } from '../../contracts/api/lineage-limits.js';
import { lazyContract, problemResponse, type Route } from '../route-definition.js';

const lineage = lazyContract(() => import('../../contracts/api/lineage.js'));

/** `lineage-ingest` writes (OpenLineage events); `lineage-api` reads (Marquez's API, the `dk lineage` view). */
export const lineageFunctionNames = ['lineage-ingest', 'lineage-api'] as const;

type LineageFunction = (typeof lineageFunctionNames)[number];

const notFound = problemResponse('No such namespace, job, dataset, run or node');
const badQuery = problemResponse('Bad path or query parameter');

export const lineageRoutes = {
  postLineageEvent: {
    method: 'POST',
    path: '/api/v1/lineage',
    function: 'lineage-ingest',
    summary:
      'Ingest one OpenLineage RunEvent, DatasetEvent or JobEvent (plain or gzip), as leniently as Marquez',
    tag: 'lineage',
    maxBodyBytes: maxLineageBodyBytes,
    responses: {
      201: { description: 'Stored (empty body)' },
      400: problemResponse(
        'Malformed event, or one over a limit (nesting, inputs and outputs, names, fields, record size): `errors[].code` is an OL_* code or LINEAGE_RECORD_TOO_LARGE, `errors[].path` the field',
      ),
      413: problemResponse('Body over 5 MiB after decompression'),
      415: problemResponse('Not JSON, or an unsupported Content-Encoding'),
      503: problemResponse('Storage or event bus unavailable, or contention: retry'),
    },
  },
  postLineageBatch: {
    method: 'POST',
    path: '/api/v1/lineage/batch',
    function: 'lineage-ingest',
    summary:
      'Ingest up to 100 OpenLineage events: a JSON array, or {"events": [...]}; all or none are accepted',
    tag: 'lineage',
    maxBodyBytes: maxLineageBodyBytes,
    responses: {
      201: { description: 'Every event stored (empty body)' },
      400: problemResponse(
        'A malformed event, or one over a limit: paths start with the event index (`[3].run.runId`)',
      ),
      413: problemResponse('Body over 5 MiB, or more than 100 events'),
      503: problemResponse('Storage or event bus unavailable: retry the batch (ingestion is idempotent)'),
    },
  },
  getLineage: {
    method: 'GET',
    path: '/api/v1/lineage',
    function: 'lineage-api',
    summary: 'Marquez lineage graph: the jobs within `depth` job hops of a node, with their datasets',
    tag: 'lineage',
    query: lineage.lineageQuerySchema,
    responses: {
      200: { description: 'The graph', schema: lineage.marquezLineageGraphSchema },
      400: badQuery,
      404: notFound,
      422: problemResponse('More than 2000 nodes within this depth'),
    },
  },
  getColumnLineage: {
    method: 'GET',
    path: '/api/v1/column-lineage',
    function: 'lineage-api',
    summary: 'Marquez column-lineage graph of a field, a dataset or a job',
    tag: 'lineage',
    query: lineage.columnLineageQuerySchema,
    responses: {
      200: { description: 'The graph', schema: lineage.marquezLineageGraphSchema },
      400: badQuery,
      404: notFound,
      422: problemResponse('More than 2000 nodes within this depth'),
    },
  },
  listLineageNamespaces: {
    method: 'GET',
    path: '/api/v1/namespaces',
    function: 'lineage-api',
    summary: 'Marquez namespaces',
    tag: 'lineage',
    query: lineage.marquezPagingSchema,
    responses: {
      200: { description: 'Namespaces', schema: lineage.marquezNamespaceListSchema },
      400: badQuery,
    },
  },
  getLineageNamespace: {
    method: 'GET',
    path: '/api/v1/namespaces/{namespace}',
    function: 'lineage-api',
    summary: 'A Marquez namespace',
    tag: 'lineage',
    pathParameters: lineage.namespacePathSchema,
    responses: {
      200: { description: 'The namespace', schema: lineage.marquezNamespaceSchema },
      404: notFound,
    },
  },
  listLineageJobs: {
    method: 'GET',
    path: '/api/v1/namespaces/{namespace}/jobs',
    function: 'lineage-api',
    summary: 'Marquez jobs of a namespace, by name',
    tag: 'lineage',
    pathParameters: lineage.namespacePathSchema,
    query: lineage.marquezPagingSchema,
    responses: { 200: { description: 'Jobs', schema: lineage.marquezJobListSchema }, 400: badQuery },
  },
  getLineageJob: {
    method: 'GET',
    path: '/api/v1/namespaces/{namespace}/jobs/{job}',
    function: 'lineage-api',
    summary: 'A Marquez job with its latest run',
    tag: 'lineage',
    pathParameters: lineage.jobPathSchema,
    responses: { 200: { description: 'The job', schema: lineage.marquezJobSchema }, 404: notFound },
  },
  listLineageJobRuns: {
    method: 'GET',
    path: '/api/v1/namespaces/{namespace}/jobs/{job}/runs',
    function: 'lineage-api',
    summary: 'Marquez runs of a job, newest first',
    tag: 'lineage',
    pathParameters: lineage.jobPathSchema,
    query: lineage.marquezPagingSchema,
    responses: {
      200: { description: 'Runs', schema: lineage.marquezRunListSchema },
      400: badQuery,
      404: notFound,
    },
  },
  listLineageDatasets: {
    method: 'GET',
    path: '/api/v1/namespaces/{namespace}/datasets',
    function: 'lineage-api',
    summary: 'Marquez datasets of a namespace, by name',
    tag: 'lineage',
    pathParameters: lineage.namespacePathSchema,
    query: lineage.marquezPagingSchema,
    responses: { 200: { description: 'Datasets', schema: lineage.marquezDatasetListSchema }, 400: badQuery },
  },
  getLineageDataset: {
    method: 'GET',
    path: '/api/v1/namespaces/{namespace}/datasets/{dataset}',
    function: 'lineage-api',
    summary: 'A Marquez dataset with its schema fields',
    tag: 'lineage',
    pathParameters: lineage.datasetPathSchema,
    responses: { 200: { description: 'The dataset', schema: lineage.marquezDatasetSchema }, 404: notFound },
  },
  getLineageRun: {
    method: 'GET',
    path: '/api/v1/jobs/runs/{id}',
    function: 'lineage-api',
    summary: 'A Marquez run',
    tag: 'lineage',
    pathParameters: lineage.runPathSchema,
    responses: { 200: { description: 'The run', schema: lineage.marquezRunSchema }, 404: notFound },
  },
  searchLineage: {
    method: 'GET',
    path: '/api/v1/search',
    function: 'lineage-api',
    summary: 'Marquez search: jobs and datasets whose name matches q (words by prefix, % and _ wildcards)',
    tag: 'lineage',
    query: lineage.searchQuerySchema,
    responses: { 200: { description: 'Matches', schema: lineage.marquezSearchResultsSchema }, 400: badQuery },
  },
  listLineageEvents: {
    method: 'GET',
    path: '/api/v1/events/lineage',
    function: 'lineage-api',
    summary: 'Raw OpenLineage events by eventTime (keyset-paginated with nextCursor)',
    tag: 'lineage',
    query: lineage.lineageEventsQuerySchema,
    responses: { 200: { description: 'Events', schema: lineage.lineageEventListSchema }, 400: badQuery },
  },
  getJobLineageView: {
    method: 'GET',
    path: '/v1/lineage/{namespace}/{name}',
    function: 'lineage-api',
    summary: 'The dk lineage view of a job: upstream and downstream datasets and jobs, and its last run',
    tag: 'lineage',
    pathParameters: lineage.jobLineagePathSchema,
    query: lineage.jobLineageQuerySchema,
    responses: {
      200: { description: 'The view', schema: lineage.jobLineageViewSchema },
      400: badQuery,
      404: notFound,
      422: problemResponse('More than 2000 nodes within this depth'),
    },
  },
} as const satisfies Record<string, Route<LineageFunction>>;
