import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Logger } from '@aws-lambda-powertools/logger';
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { createLineageApi } from '../../lambdas/lineage-api/handler.js';
import { createLineageIngestApi } from '../../lambdas/lineage-ingest/handler.js';
import { DynamoLineageStore } from '../../lib/adapters/dynamodb/lineage-store.js';
import { SingleTable } from '../../lib/adapters/dynamodb/single-table.js';
import { LocalEventBus } from '../../lib/adapters/local/event-bus.js';
import { FileBlobStore } from '../../lib/adapters/local/file-blob-store.js';
import { type NormalizedLineageEvent, parseLineageEvent } from '../../lib/contracts/openlineage/parse.js';
import { defaultTableName } from '../../lib/contracts/table.js';
import { makeIngestLineageEvent } from '../../lib/domain/lineage/ingest.js';
import { loadConfig } from '../../lib/runtime/config.js';
import { createDependencies, type Dependencies } from '../../lib/runtime/dependencies.js';
import { apiEvent, lambdaContext } from './api-event.js';
import { startTestTable, type TestTable } from './dynamo.js';

/** The lineage functions over a real (dynalite) table, called as API Gateway calls them. */
export interface LineageHarness {
  readonly deps: Dependencies;
  readonly bus: LocalEventBus;
  readonly table: TestTable;
  readonly blobDir: string;
  /** `POST /api/v1/lineage` with a JSON value (or raw text/bytes and headers). */
  post(
    body: unknown,
    options?: { raw?: string | Buffer; headers?: Record<string, string> },
  ): Promise<APIGatewayProxyResult>;
  /** `POST /api/v1/lineage/batch` with a JSON value (or raw text). */
  postBatch(body: unknown, options?: { raw?: string }): Promise<APIGatewayProxyResult>;
  /** A GET on a lineage read route; path parameters already decoded, as API Gateway passes them. */
  get(
    resource: string,
    options?: { pathParameters?: Record<string, string>; query?: Record<string, string> },
  ): Promise<APIGatewayProxyResult>;
  /** A write of the Marquez API other than ingestion (the tag routes), served by `lineage-ingest`. */
  send(
    method: 'PUT' | 'POST' | 'DELETE',
    resource: string,
    options?: { pathParameters?: Record<string, string>; body?: unknown },
  ): Promise<APIGatewayProxyResult>;
  /** Every item of the table (tests only: counting what an ingestion wrote). */
  itemCount(): Promise<number>;
  /** Every item of the table, as JSON text sorted by key (tests only: asserting nothing was written). */
  dump(): Promise<string[]>;
  close(): Promise<void>;
}

export async function startLineageHarness(): Promise<LineageHarness> {
  const table = await startTestTable();
  const blobDir = mkdtempSync(join(tmpdir(), 'datakit-lineage-blobs-'));
  const logger = new Logger({ serviceName: 'datakit-test', logLevel: 'SILENT' });
  const bus = new LocalEventBus(logger, 10_000);
  const config = loadConfig({
    TABLE_NAME: defaultTableName,
    DYNAMODB_ENDPOINT: table.endpoint,
    AWS_REGION: 'us-east-1',
    LOG_LEVEL: 'SILENT',
    // Roles are not what these tests are about (test/unit/api/authorization-matrix.test.ts is).
    ACCESS_CONTROL: 'off',
  });
  const deps = createDependencies(config, { logger, events: bus, blobs: new FileBlobStore(blobDir) });
  const ingest = createLineageIngestApi(deps);
  const read = createLineageApi(deps);
  return {
    deps,
    bus,
    table,
    blobDir,
    post: (body, options = {}) =>
      ingest(
        apiEvent({
          method: 'POST',
          resource: '/api/v1/lineage',
          headers: { 'content-type': 'application/json', ...options.headers },
          body: options.raw ?? JSON.stringify(body),
        }),
        lambdaContext(),
      ),
    postBatch: (body, options = {}) =>
      ingest(
        apiEvent({
          method: 'POST',
          resource: '/api/v1/lineage/batch',
          headers: { 'content-type': 'application/json' },
          body: options.raw ?? JSON.stringify(body),
        }),
        lambdaContext(),
      ),
    send: (method, resource, options = {}) =>
      ingest(
        apiEvent({
          method,
          resource,
          headers: { 'content-type': 'application/json' },
          ...(options.pathParameters === undefined ? {} : { pathParameters: options.pathParameters }),
          ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        }),
        lambdaContext(),
      ),
    get: (resource, options = {}) =>
      read(
        apiEvent({
          resource,
          ...(options.pathParameters === undefined ? {} : { pathParameters: options.pathParameters }),
          ...(options.query === undefined ? {} : { query: options.query }),
        }),
        lambdaContext(),
      ),
    itemCount: async () => {
      let count = 0;
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await table.client.send(
          new ScanCommand({ TableName: defaultTableName, Select: 'COUNT', ExclusiveStartKey: start }),
        );
        count += page.Count ?? 0;
        start = page.LastEvaluatedKey;
      } while (start !== undefined);
      return count;
    },
    dump: async () => {
      const items: string[] = [];
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await table.client.send(
          new ScanCommand({ TableName: defaultTableName, ExclusiveStartKey: start }),
        );
        for (const item of page.Items ?? []) items.push(JSON.stringify(item));
        start = page.LastEvaluatedKey;
      } while (start !== undefined);
      return items.sort();
    },
    close: async () => {
      await bus.drain();
      await table.close();
      rmSync(blobDir, { recursive: true, force: true });
    },
  };
}

/** gzip of a JSON value, as OpenLineage clients with compression send it. */
export function gzipJson(value: unknown): Buffer {
  return gzipSync(Buffer.from(JSON.stringify(value)));
}

let sequence = 0;

/** A fresh UUID-shaped run id (deterministic per test process). */
export function runId(): string {
  sequence++;
  return `00000000-0000-4000-8000-${sequence.toString(16).padStart(12, '0')}`;
}

export interface RunEventOptions {
  readonly eventType?: 'START' | 'RUNNING' | 'COMPLETE' | 'FAIL' | 'ABORT' | 'OTHER';
  readonly eventTime: string;
  readonly runId: string;
  readonly job: { namespace: string; name: string; facets?: Record<string, unknown> };
  readonly inputs?: readonly ({ namespace: string; name: string } & Record<string, unknown>)[];
  readonly outputs?: readonly ({ namespace: string; name: string } & Record<string, unknown>)[];
  readonly runFacets?: Record<string, unknown>;
}

/** An OpenLineage RunEvent as the Python client sends it. */
export function runEvent(options: RunEventOptions): Record<string, unknown> {
  return {
    eventType: options.eventType ?? 'COMPLETE',
    eventTime: options.eventTime,
    producer: 'https://github.com/OpenLineage/OpenLineage/tree/1.0.0/client/python',
    schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
    run: { runId: options.runId, facets: options.runFacets ?? {} },
    job: { facets: {}, ...options.job },
    inputs: options.inputs ?? [],
    outputs: options.outputs ?? [],
  };
}

/** The JSON body of a response. */
export function json(response: APIGatewayProxyResult): unknown {
  return JSON.parse(response.body);
}

/**
 * The table, except that its `crashAt`-th write (counting from 0) and every later one fail without reaching
 * DynamoDB, as if the process had died there: a fault injected behind the lineage store's port. Writes
 * started before the crash land; `idle()` waits for them.
 */
export class CrashingTable extends SingleTable {
  /** Writes asked for so far, the failed ones included. */
  writes = 0;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    client: TestTable['client'],
    private readonly crashAt: number,
  ) {
    super(client, defaultTableName);
  }

  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private write<T>(send: () => Promise<T>): Promise<T> {
    if (this.writes++ >= this.crashAt) return Promise.reject(new Error(`crashed at write ${this.crashAt}`));
    const sent = send();
    this.inFlight.add(sent);
    const forget = () => this.inFlight.delete(sent);
    sent.then(forget, forget);
    return sent;
  }

  override update(...args: Parameters<SingleTable['update']>) {
    return this.write(() => super.update(...args));
  }
  override put(...args: Parameters<SingleTable['put']>) {
    return this.write(() => super.put(...args));
  }
  override putIfAbsent(...args: Parameters<SingleTable['putIfAbsent']>) {
    return this.write(() => super.putIfAbsent(...args));
  }
  override putIfAbsentOrSame(...args: Parameters<SingleTable['putIfAbsentOrSame']>) {
    return this.write(() => super.putIfAbsentOrSame(...args));
  }
  override putWithRevision(...args: Parameters<SingleTable['putWithRevision']>) {
    return this.write(() => super.putWithRevision(...args));
  }
  override batchPut(...args: Parameters<SingleTable['batchPut']>) {
    return this.write(() => super.batchPut(...args));
  }
  override batchDelete(...args: Parameters<SingleTable['batchDelete']>) {
    return this.write(() => super.batchDelete(...args));
  }
  override delete(...args: Parameters<SingleTable['delete']>) {
    return this.write(() => super.delete(...args));
  }
}

/** The ingestion use case over `h`'s table behind a `CrashingTable`. */
export function crashingIngestion(h: LineageHarness, crashAt: number) {
  const table = new CrashingTable(h.table.client, crashAt);
  const store = new DynamoLineageStore(table, new FileBlobStore(h.blobDir));
  const ingest = makeIngestLineageEvent({
    store,
    events: h.bus,
    clock: () => new Date('2024-08-01T00:00:00Z'),
  });
  return { table, ingest };
}

/** The normalized form of a test event (the use case's input). */
export function normalized(raw: Record<string, unknown>): NormalizedLineageEvent {
  const parsed = parseLineageEvent(raw);
  if (!parsed.ok) throw new Error(`test event refused: ${JSON.stringify(parsed.problems)}`);
  return parsed.event;
}
