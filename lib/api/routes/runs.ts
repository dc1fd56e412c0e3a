import { lazyContract, problemResponse, type Route } from '../route-definition.js';

const cells = lazyContract(() => import('../../contracts/api/cells.js'));
const runs = lazyContract(() => import('../../contracts/api/runs.js'));

/**
 * `cells-api`: cells and their Stores; `runs-api`: runs; `run-steps` is not an API function (the state
 * machine invokes it). Promotions, deployments and status are `routes/promotions.ts`.
 */
export const runFunctionNames = ['cells-api', 'runs-api'] as const;

type RunFunction = (typeof runFunctionNames)[number];

/** Largest Store manifest `PUT /v1/cells/{cell}/stores/{store}` accepts. */
export const maxStoreManifestBytes = 64 * 1024;

const badRequest = problemResponse('Bad path, query or body (the field is named)');

export const runRoutes = {
  listCells: {
    method: 'GET',
    path: '/v1/cells',
    function: 'cells-api',
    summary: 'Cells: where Transforms run (stacks in AWS; this process in embedded mode)',
    tag: 'cells',
    access: { kind: 'read', of: 'caller' },
    query: cells.listCellsQuerySchema,
    responses: { 200: { description: 'A page of cells', schema: cells.cellPageSchema }, 400: badRequest },
  },
  getCell: {
    method: 'GET',
    path: '/v1/cells/{cell}',
    function: 'cells-api',
    summary: 'One cell: its runtime, labels and how many Stores it has',
    tag: 'cells',
    access: { kind: 'read', of: 'caller' },
    pathParameters: cells.cellPathSchema,
    responses: {
      200: { description: 'The cell', schema: cells.cellSchema },
      404: problemResponse('CELL_NOT_FOUND'),
    },
  },
  putCell: {
    method: 'PUT',
    path: '/v1/cells/{cell}',
    function: 'cells-api',
    summary: 'Creates a cell (embedded mode) or changes its description and labels',
    tag: 'cells',
    access: { kind: 'write', role: 'platform-admin', action: 'cell.put', target: 'cell:{path.cell}' },
    pathParameters: cells.cellPathSchema,
    body: cells.putCellBodySchema,
    maxBodyBytes: 16 * 1024,
    responses: {
      200: { description: 'Updated', schema: cells.cellSchema },
      201: { description: 'Created (embedded mode)', schema: cells.cellSchema },
      400: badRequest,
      404: problemResponse('CELL_NOT_FOUND: in AWS, cells come from cell stacks'),
    },
  },
  listCellStores: {
    method: 'GET',
    path: '/v1/cells/{cell}/stores',
    function: 'cells-api',
    summary: 'The Stores of a cell (secret names only, never values)',
    tag: 'cells',
    access: { kind: 'read', of: 'caller' },
    pathParameters: cells.cellPathSchema,
    responses: {
      200: { description: 'Every Store of the cell', schema: cells.cellStorePageSchema },
      404: problemResponse('CELL_NOT_FOUND'),
    },
  },
  getCellStore: {
    method: 'GET',
    path: '/v1/cells/{cell}/stores/{store}',
    function: 'cells-api',
    summary: 'One Store of a cell (secret names only, never values)',
    tag: 'cells',
    access: { kind: 'read', of: 'caller' },
    pathParameters: cells.storePathSchema,
    responses: {
      200: { description: 'The Store', schema: cells.cellStoreSchema },
      404: problemResponse('CELL_NOT_FOUND, STORE_NOT_FOUND'),
    },
  },
  putCellStore: {
    method: 'PUT',
    path: '/v1/cells/{cell}/stores/{store}',
    function: 'cells-api',
    summary:
      'Creates or replaces a Store of a cell from a Store manifest (JSON, or YAML as application/yaml)',
    tag: 'cells',
    access: {
      kind: 'write',
      role: 'platform-admin',
      action: 'store.put',
      target: 'store:{path.cell}/{path.store}',
    },
    pathParameters: cells.storePathSchema,
    maxBodyBytes: maxStoreManifestBytes,
    responses: {
      200: { description: 'Replaced', schema: cells.cellStoreSchema },
      201: { description: 'Created', schema: cells.cellStoreSchema },
      400: problemResponse(
        'STORE_MANIFEST_INVALID (errors[] carry E210–E212 and the field path), STORE_NAME_MISMATCH',
      ),
      404: problemResponse('CELL_NOT_FOUND'),
      415: problemResponse('Not JSON or YAML'),
    },
  },
  createRun: {
    method: 'POST',
    path: '/v1/runs',
    function: 'runs-api',
    summary: 'Runs the version deployed in env × cell now (manual trigger); Idempotency-Key supported',
    tag: 'runs',
    access: {
      kind: 'write',
      role: 'deployer',
      namespace: { body: 'namespace' },
      action: 'run.start',
      target: 'package:{body.namespace}/{body.name}',
    },
    body: runs.createRunBodySchema,
    maxBodyBytes: 16 * 1024,
    responses: {
      202: { description: 'Accepted: the run is PENDING', schema: runs.runSchema },
      400: badRequest,
      404: problemResponse('DEPLOYMENT_NOT_FOUND, CELL_NOT_FOUND'),
      422: problemResponse('RUN_NOT_A_TRANSFORM, RUN_STREAMING_TRANSFORM'),
      503: problemResponse(
        'RUN_START_UNAVAILABLE: recorded but not started; retry with the same Idempotency-Key',
      ),
    },
  },
  listRuns: {
    method: 'GET',
    path: '/v1/runs',
    function: 'runs-api',
    summary: 'Runs, newest first, by package, cell, status or trigger',
    tag: 'runs',
    access: { kind: 'read', of: 'namespaces' },
    query: runs.listRunsQuerySchema,
    responses: { 200: { description: 'A page of runs', schema: runs.runPageSchema }, 400: badRequest },
  },
  getRun: {
    method: 'GET',
    path: '/v1/runs/{runId}',
    function: 'runs-api',
    summary: 'One run: status, times, exit code, error, trigger and lineage identity',
    tag: 'runs',
    access: { kind: 'read', of: 'namespace', namespace: { run: 'runId' } },
    pathParameters: runs.runPathSchema,
    responses: {
      200: { description: 'The run', schema: runs.runSchema },
      404: problemResponse('RUN_NOT_FOUND'),
    },
  },
  cancelRun: {
    method: 'POST',
    path: '/v1/runs/{runId}/cancel',
    function: 'runs-api',
    summary: 'Cancels a live run: its task is stopped and it ends CANCELLED with lineage ABORT',
    tag: 'runs',
    access: {
      kind: 'write',
      role: 'deployer',
      namespace: { run: 'runId' },
      action: 'run.cancel',
      target: 'run:{path.runId}',
    },
    pathParameters: runs.runPathSchema,
    responses: {
      202: { description: 'Cancelled', schema: runs.runSchema },
      404: problemResponse('RUN_NOT_FOUND'),
      409: problemResponse('RUN_ALREADY_ENDED'),
    },
  },
  getRunLogs: {
    method: 'GET',
    path: '/v1/runs/{runId}/logs',
    function: 'runs-api',
    summary: "The tail of a run's output (CloudWatch Logs in AWS, captured output locally)",
    tag: 'runs',
    access: { kind: 'read', of: 'namespace', namespace: { run: 'runId' } },
    pathParameters: runs.runPathSchema,
    query: runs.runLogsQuerySchema,
    responses: {
      200: { description: 'The last lines', schema: runs.runLogsSchema },
      404: problemResponse('RUN_NOT_FOUND'),
    },
  },
} as const satisfies Record<string, Route<RunFunction>>;
