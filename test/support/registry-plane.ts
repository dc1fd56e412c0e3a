import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { createPackagesApi } from '../../lambdas/packages-api/handler.js';
import { createRegistrationsApi } from '../../lambdas/registrations-api/handler.js';
import type { SingleTable } from '../../lib/adapters/dynamodb/single-table.js';
import { LocalEventBus } from '../../lib/adapters/local/event-bus.js';
import { DistributionClient } from '../../lib/adapters/oci/distribution-client.js';
import { routeList } from '../../lib/api/routes.js';
import type { ArtifactSource } from '../../lib/ports/artifact-source.js';
import type { EventPublisher } from '../../lib/ports/event-publisher.js';
import type { RegistryStore } from '../../lib/ports/registry-store.js';
import { loadConfig } from '../../lib/runtime/config.js';
import { createDependencies, type Dependencies } from '../../lib/runtime/dependencies.js';
import { apiEvent, lambdaContext } from './api-event.js';
import { startTestTable, type TestTable } from './dynamo.js';

export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
  readonly text: string;
  readonly contentType: string | undefined;
  readonly headers: Readonly<Record<string, unknown>>;
}

/** The registry's use case and API handlers over a real dynalite table, with the in-process bus. */
export interface RegistryPlane {
  readonly table: TestTable;
  readonly deps: Dependencies;
  readonly bus: LocalEventBus;
  /** `POST /v1/registrations`, in a Lambda context with plenty of time left unless one is given. */
  register(reference: string, context?: Context): Promise<ApiResponse>;
  /** A GET of any registry route, e.g. `/v1/packages/sales/orders/versions/1.0.0?x=y`. */
  get(pathAndQuery: string): Promise<ApiResponse>;
  close(): Promise<void>;
}

export interface RegistryPlaneOptions {
  readonly registryStore?: (table: SingleTable) => RegistryStore;
  readonly events?: EventPublisher;
  readonly artifacts?: ArtifactSource;
  readonly allowlist?: string;
}

export async function startRegistryPlane(options: RegistryPlaneOptions = {}): Promise<RegistryPlane> {
  const table = await startTestTable();
  const logger = new Logger({ logLevel: 'SILENT' });
  const bus = new LocalEventBus(logger);
  const config = loadConfig({
    TABLE_NAME: table.table.tableName,
    DYNAMODB_ENDPOINT: table.endpoint,
    LOG_LEVEL: 'SILENT',
    // Roles are not what these tests are about (test/unit/api/authorization-matrix.test.ts is).
    ACCESS_CONTROL: 'off',
    ...(options.allowlist === undefined ? {} : { REGISTRY_ALLOWLIST: options.allowlist }),
  });
  const deps = createDependencies(config, {
    logger,
    events: options.events ?? bus,
    artifacts: options.artifacts ?? new DistributionClient({ timeoutMs: 10_000 }),
    ...(options.registryStore === undefined ? {} : { registryStore: options.registryStore }),
  });
  const registrations = createRegistrationsApi(deps);
  const packages = createPackagesApi(deps);
  const respond = (result: {
    statusCode: number;
    body: string;
    headers?: Record<string, unknown> | undefined;
  }) => {
    const contentType = result.headers?.['content-type'];
    const json = typeof contentType === 'string' && contentType.includes('json');
    return {
      status: result.statusCode,
      text: result.body,
      body: json ? (JSON.parse(result.body) as unknown) : undefined,
      contentType: typeof contentType === 'string' ? contentType : undefined,
      headers: result.headers ?? {},
    };
  };
  return {
    table,
    deps,
    bus,
    register: async (reference, context = lambdaContext()) =>
      respond(
        await registrations(
          apiEvent({
            method: 'POST',
            resource: '/v1/registrations',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ reference }),
          }),
          context,
        ),
      ),
    get: async (pathAndQuery) => {
      const url = new URL(pathAndQuery, 'http://local');
      const match = matchRoute(url.pathname);
      const query = Object.fromEntries(url.searchParams);
      return respond(
        await packages(
          apiEvent({
            resource: match.resource,
            path: url.pathname,
            pathParameters: match.pathParameters,
            ...(Object.keys(query).length === 0 ? {} : { query }),
          }),
          lambdaContext(),
        ),
      );
    },
    close: async () => {
      await bus.drain();
      await table.close();
    },
  };
}

function matchRoute(path: string): { resource: string; pathParameters: Record<string, string> } {
  const segments = path.split('/').filter(Boolean);
  for (const route of routeList) {
    if (route.method !== 'GET') continue;
    const parts = route.path.split('/').filter(Boolean);
    if (parts.length !== segments.length) continue;
    const parameters: Record<string, string> = {};
    const matches = parts.every((part, index) => {
      const segment = segments[index] ?? '';
      if (part.startsWith('{')) {
        parameters[part.slice(1, -1)] = decodeURIComponent(segment);
        return true;
      }
      return part === segment;
    });
    if (matches) return { resource: route.path, pathParameters: parameters };
  }
  throw new Error(`no GET route for ${path}`);
}
