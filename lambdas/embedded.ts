import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { createDynamoDbClient } from '../lib/adapters/dynamodb/client.js';
import { ensureTable } from '../lib/adapters/dynamodb/create-table.js';
import {
  type EmbeddedDynamoDb,
  EmbeddedStorageError,
  startEmbeddedDynamoDb,
} from '../lib/adapters/local/dynamodb-server.js';
import { LocalEventBus } from '../lib/adapters/local/event-bus.js';
import { type LocalApi, type LocalRoute, startLocalApi } from '../lib/adapters/local/http-server.js';
import { registryWebhookRoute } from '../lib/adapters/local/registry-webhook.js';
import { createFallbackHandler } from '../lib/api/http-handler.js';
import type { GroupPatterns } from '../lib/contracts/identity.js';
import { defaultTableName } from '../lib/contracts/table.js';
import type { Environment } from '../lib/domain/promotions/environments.js';
import { loadConfig } from '../lib/runtime/config.js';
import { createDependencies, type Dependencies } from '../lib/runtime/dependencies.js';
import { type LocalRuntime, startLocalRuntime } from '../lib/runtime/wiring/local-runs.js';
import type { RunPlane } from '../lib/runtime/wiring/runs.js';
import { createAccessApi } from './access-api/handler.js';
import { createCellsApi } from './cells-api/handler.js';
import { createGovernanceApi } from './governance-api/handler.js';
import { createLineageApi } from './lineage-api/handler.js';
import { createLineageIngestApi } from './lineage-ingest/handler.js';
import { createPackagesApi } from './packages-api/handler.js';
import { createPromotionsApi } from './promotions-api/handler.js';
import { createRegistrationsApi } from './registrations-api/handler.js';
import { createRunsApi } from './runs-api/handler.js';
import { createSystemApi } from './system-api/handler.js';

export interface EmbeddedOptions {
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** @default 8080; 0 picks a free port */
  readonly port?: number;
  /** Where the embedded DynamoDB keeps its data. @default in memory */
  readonly dataDir?: string;
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
  /** `REGISTRY_ALLOWLIST`: registries packages may be registered from. @default loopback hosts, any port */
  readonly registryAllowlist?: string;
  /** `REGISTRY_BLOB_HOSTS`: hosts registries may redirect reads to or name as token realms. @default none */
  readonly registryBlobHosts?: string;
  /** `REGISTRY_INSECURE_HOSTS`: registries read over plain http besides loopback ones. @default none */
  readonly registryInsecureHosts?: string;
  /** `DATAKIT_RUNNER`: run Transforms as local processes (`spec.command`) or with docker (`spec.image`). @default subprocess */
  readonly runner?: 'subprocess' | 'docker';
  /** `FUNCTION_TIMEOUT_MS`: the time every request has, as a Lambda function's timeout. @default 10 000 */
  readonly functionTimeoutMs?: number;
  /** `DATAKIT_GROUPS`: approver groups, group → principal names (`x-datakit-principal`). @default none */
  readonly groups?: GroupPatterns;
  /** `DATAKIT_ENVIRONMENTS`: the environments and their approvals. @default dev → int → prod */
  readonly environments?: readonly Environment[];
  /** `DATAKIT_APPROVAL_TIMEOUT_MINUTES`: how long approvals wait. @default 10 080 (7 days) */
  readonly approvalTimeoutMinutes?: number;
  /**
   * Days records are kept (`LINEAGE_EVENT_RETENTION_DAYS`, `RUN_RETENTION_DAYS`, `REGISTRATION_RETENTION_DAYS`;
   * 0 keeps them). Expired items are hidden from every read; the embedded DynamoDB does not delete them.
   * @default 400 each
   */
  readonly retention?: {
    readonly lineageEventDays?: number;
    readonly runDays?: number;
    readonly registrationDays?: number;
    /** `AUDIT_RETENTION_DAYS`: days audit records are kept. @default 400 */
    readonly auditDays?: number;
  };
  /**
   * `DATAKIT_ACCESS_CONTROL`: namespace roles `enforced`, `off`, or `auto` — enforced once any namespace has
   * bindings or the platform-admin group has members. @default auto
   */
  readonly accessControl?: 'enforced' | 'auto' | 'off';
  /** `DATAKIT_PLATFORM_ADMIN_GROUP`: the group (of `groups`) whose members administer every namespace. @default platform-admins */
  readonly platformAdminGroup?: string;
  /** `DATAKIT_NAMESPACE_READ_ACCESS`: `restricted` makes reads of a namespace need `viewer`. @default open */
  readonly namespaceReadAccess?: 'open' | 'restricted';
}

export interface EmbeddedControlPlane {
  readonly url: string;
  readonly deps: Dependencies;
  /** The in-process `datakit` bus: rules, targets and the most recent events. */
  readonly bus: LocalEventBus;
  /** Cells, deployments, promotions and runs, as the API serves them. */
  readonly plane: RunPlane;
  /** The embedded DynamoDB's health and its worker's heap and open iterators. */
  readonly storage: Pick<EmbeddedDynamoDb, 'health' | 'stats'>;
  close(): Promise<void>;
}

/**
 * The whole control plane in one process: the embedded DynamoDB server, the table from the shared
 * definition, and the same Lambda handlers behind the local router.
 */
export async function startEmbeddedControlPlane(
  options: EmbeddedOptions = {},
): Promise<EmbeddedControlPlane> {
  const logger = new Logger({ serviceName: 'datakit', logLevel: options.logLevel ?? 'INFO' });
  const dynamo = await startEmbeddedDynamoDb({
    logger,
    ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
  });
  let api: LocalApi | undefined;
  let runtime: LocalRuntime | undefined;
  try {
    await ensureTable(createDynamoDbClient({ endpoint: dynamo.endpoint }), defaultTableName).catch(
      (cause: unknown) => {
        throw new EmbeddedStorageError(
          `The embedded DynamoDB in ${options.dataDir ?? 'memory'} cannot read or create its table: ${
            cause instanceof Error ? cause.message : String(cause)
          }`,
          { cause },
        );
      },
    );
    const config = loadConfig({
      TABLE_NAME: defaultTableName,
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      AWS_REGION: 'us-east-1',
      LOG_LEVEL: options.logLevel ?? 'INFO',
      IDENTITY_SOURCE: 'embedded',
      ...(options.dataDir === undefined ? {} : { RAW_EVENTS_DIR: join(options.dataDir, 'raw-events') }),
      ...(options.registryAllowlist === undefined ? {} : { REGISTRY_ALLOWLIST: options.registryAllowlist }),
      ...(options.registryBlobHosts === undefined ? {} : { REGISTRY_BLOB_HOSTS: options.registryBlobHosts }),
      ...(options.registryInsecureHosts === undefined
        ? {}
        : { REGISTRY_INSECURE_HOSTS: options.registryInsecureHosts }),
      ...(options.functionTimeoutMs === undefined
        ? {}
        : { FUNCTION_TIMEOUT_MS: String(options.functionTimeoutMs) }),
      ...(options.groups === undefined ? {} : { GROUPS: JSON.stringify(options.groups) }),
      ...(options.environments === undefined ? {} : { ENVIRONMENTS: JSON.stringify(options.environments) }),
      ...(options.approvalTimeoutMinutes === undefined
        ? {}
        : { APPROVAL_TIMEOUT_MINUTES: String(options.approvalTimeoutMinutes) }),
      ...(options.retention?.lineageEventDays === undefined
        ? {}
        : { LINEAGE_EVENT_RETENTION_DAYS: String(options.retention.lineageEventDays) }),
      ...(options.retention?.runDays === undefined
        ? {}
        : { RUN_RETENTION_DAYS: String(options.retention.runDays) }),
      ...(options.retention?.registrationDays === undefined
        ? {}
        : { REGISTRATION_RETENTION_DAYS: String(options.retention.registrationDays) }),
      ...(options.retention?.auditDays === undefined
        ? {}
        : { AUDIT_RETENTION_DAYS: String(options.retention.auditDays) }),
      // One developer on their machine is never refused until they configure roles (ADR 0018).
      ACCESS_CONTROL: options.accessControl ?? 'auto',
      ...(options.platformAdminGroup === undefined
        ? {}
        : { PLATFORM_ADMIN_GROUP: options.platformAdminGroup }),
      ...(options.namespaceReadAccess === undefined
        ? {}
        : { NAMESPACE_READ_ACCESS: options.namespaceReadAccess }),
      // One process: a change of bindings is seen at once (PUT forgets the cached ones).
      BINDINGS_CACHE_SECONDS: '10',
    });
    const bus = new LocalEventBus(logger);
    const deps = createDependencies(config, { logger, events: bus });
    const localRoutes: LocalRoute[] = [registryWebhookRoute(deps.registerPackage, logger)];
    runtime = await startLocalRuntime(deps, {
      dataDir: options.dataDir ?? mkdtempSync(join(tmpdir(), 'datakit-runtime-')),
      runner: options.runner ?? 'subprocess',
      bus,
      lineageUrl: () => api?.url ?? `http://${options.host ?? '127.0.0.1'}:${options.port ?? 8080}`,
    });
    const plane = runtime.plane;
    api = await startLocalApi({
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 8080,
      functions: {
        'system-api': createSystemApi(deps, { storageHealth: () => dynamo.health() }),
        'packages-api': createPackagesApi(deps),
        'lineage-ingest': createLineageIngestApi(deps),
        'lineage-api': createLineageApi(deps),
        'registrations-api': createRegistrationsApi(deps),
        'cells-api': createCellsApi(deps, plane),
        'runs-api': createRunsApi(deps, plane),
        'promotions-api': createPromotionsApi(deps, plane),
        'governance-api': createGovernanceApi(deps),
        'access-api': createAccessApi(deps),
      },
      fallback: createFallbackHandler(logger),
      localRoutes,
      logger,
    });
    const started = api;
    const local = runtime;
    return {
      url: started.url,
      deps,
      bus,
      storage: dynamo,
      plane,
      close: async () => {
        await started.close();
        await local.close();
        await bus.drain();
        await dynamo.close();
      },
    };
  } catch (error) {
    await api?.close();
    await runtime?.close();
    await dynamo.close();
    throw error;
  }
}
