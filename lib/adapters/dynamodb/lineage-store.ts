import * as z from 'zod';
import { LineageNodeTooLargeError } from '../../domain/lineage/errors.js';
import type {
  ColumnLineageRecord,
  DatasetRecord,
  DatasetVersionRecord,
  JobRecord,
  NamespaceRecord,
  RunDatasetVersion,
  RunRecord,
  TagRecord,
} from '../../domain/lineage/model.js';
import {
  type DatasetFieldNodeId,
  type DatasetNodeId,
  datasetFieldNodeId,
  datasetNodeId,
  isDatasetFieldNodeId,
  isDatasetNodeId,
  isJobNodeId,
  type JobNodeId,
  jobNodeId,
  type NodeId,
} from '../../domain/lineage/node-id.js';
import { searchTerms } from '../../domain/lineage/search.js';
import { countEventsInRange, type StatsBucket, statsBucket } from '../../domain/lineage/stats.js';
import type { BlobStore } from '../../ports/blob-store.js';
import type { NodeAdjacency } from '../../ports/lineage-graph.js';
import type {
  CountedPage,
  DatasetWrite,
  LineageGraphSession,
  LineageSnapshot,
  LineageStore,
  OffsetPaging,
  OversizedRecord,
  PlannedRecords,
  RawEventQuery,
  RawLineageEvent,
  SearchCandidate,
  SnapshotRequest,
  StatsSeries,
  StoredDataset,
  StoredField,
  StoredJob,
  StoredRun,
  TagTarget,
} from '../../ports/lineage-store.js';
import { type ItemKey, keys } from './keys.js';
import {
  columnLineageRecordSchema,
  datasetRecordSchema,
  datasetVersionRecordSchema,
  jobRecordSchema,
  readDoc,
  runRecordSchema,
} from './lineage-records.js';
import { expiresAfter } from './retention.js';
import type { Item, SingleTable, UpdateOptions } from './single-table.js';

/** Raw events larger than this (UTF-8 bytes) go to the blob store; the item keeps a pointer. */
export const maxInlineRawEventBytes = 350 * 1024;
/**
 * Most a record document may take of its 400 KB item: the rest is for the key, the attribute names and, on
 * dataset and field nodes, the edge sets. A record larger than this loses its facets; one still larger is
 * refused before anything is written (`oversized`).
 */
export const maxRecordBytes = 300 * 1024;
/** A job and its latest run share one item, which has no edge sets: together they may take this much. */
export const maxJobItemRecordBytes = 380 * 1024;

const stringSet = z
  .set(z.string())
  .optional()
  .transform((set) => set ?? new Set<string>());

const nodeItemSchema = z.object({
  kind: z.enum(['job', 'dataset', 'field']),
  doc: z.string().optional(),
  latestRun: z.string().optional(),
  revision: z.number().int().optional(),
  writers: stringSet,
  readers: stringSet,
  lineageFields: stringSet,
  consumers: stringSet,
  inputs: z.array(z.string()).optional(),
  runCount: z.number().int().optional(),
  versionCount: z.number().int().optional(),
  userTags: stringSet,
  /** `JSON.stringify([field, tag])` per tag added to a field through the API. */
  userFieldTags: stringSet,
});

const runItemSchema = z.object({ doc: z.string(), revision: z.number().int() });
const namespaceItemSchema = z.object({
  name: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  ownerName: z.string(),
  jobCount: z.number().int().optional(),
  datasetCount: z.number().int().optional(),
});
const memberItemSchema = z.object({ nodeId: z.string() });
const searchItemSchema = z.object({
  nodeId: z.string(),
  kind: z.enum(['job', 'dataset']),
  namespace: z.string(),
  name: z.string(),
});
const rawItemSchema = z.object({ json: z.string().optional(), blobKey: z.string().optional() });
const versionItemSchema = z.object({ doc: z.string() });
const tagItemSchema = z.object({ name: z.string(), description: z.string().exactOptional() });
const totalsItemSchema = z.object({
  jobs: z.number().int().optional(),
  datasets: z.number().int().optional(),
  sources: z.number().int().optional(),
});
const fieldTagSchema = z.tuple([z.string(), z.string()]);

/** Tags added to fields through the API, by field. */
function fieldTagsOf(entries: ReadonlySet<string>): Map<string, Set<string>> {
  const byField = new Map<string, Set<string>>();
  for (const entry of entries) {
    const parsed = fieldTagSchema.safeParse(JSON.parse(entry));
    if (!parsed.success) continue;
    const [field, tag] = parsed.data;
    byField.set(field, new Set([...(byField.get(field) ?? []), tag]));
  }
  return byField;
}

/** The counters of a statistics bucket: every number of its item. */
function bucketOf(item: Item): StatsBucket {
  const counts: Record<string, number> = {};
  for (const [name, value] of Object.entries(item)) if (typeof value === 'number') counts[name] = value;
  return { bucket: item.SK, counts };
}

/** A parsed node item: whatever kind it is, with the adjacency the graph walks. */
type ParsedNode =
  | { kind: 'job'; stored: StoredJob; adjacency: NodeAdjacency }
  | { kind: 'dataset'; stored: StoredDataset; adjacency: NodeAdjacency }
  | { kind: 'field'; stored: StoredField; adjacency: NodeAdjacency };

// Facets are the part of a record producers grow without bound; the raw event (in S3 when large) still holds
// all of them, so a record that would not fit keeps its identity, edges and typed fields and drops them.
const droppedFacets = { _truncated: true };

function bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function withoutFacets<T extends { facets: Record<string, unknown> }>(record: T): T {
  return { ...record, facets: droppedFacets };
}

/** A run without its facets, its job's facets, nor those of its datasets (`inputFacets`/`outputFacets`). */
function runWithoutFacets(run: RunRecord): RunRecord {
  const lean = (versions: readonly RunDatasetVersion[]) =>
    versions.map((version) => ({ ...version, facets: {} }));
  return {
    ...withoutFacets(run),
    ...(run.jobFacets === undefined ? {} : { jobFacets: droppedFacets }),
    inputVersions: lean(run.inputVersions),
    outputVersions: lean(run.outputVersions),
  };
}

/** A record's document: whole when it fits `maxRecordBytes`, else without facets (which may still not fit). */
function recordDoc<T extends { facets: Record<string, unknown> }>(
  record: T,
  lean: (record: T) => T = withoutFacets,
): string {
  const json = JSON.stringify(record);
  return bytes(json) <= maxRecordBytes ? json : JSON.stringify(lean(record));
}

function runDoc(run: RunRecord): string {
  return recordDoc(run, runWithoutFacets);
}

/**
 * The documents of a job item: the job and its latest run whole when they fit `maxJobItemRecordBytes`
 * together, else the run's facets dropped, then the job's too.
 */
function jobDocs(job: JobRecord, latestRun: RunRecord | undefined): { doc: string; latestRun?: string } {
  const total = (doc: string, run?: string) => bytes(doc) + (run === undefined ? 0 : bytes(run));
  const doc = JSON.stringify(job);
  if (latestRun === undefined) {
    return total(doc) <= maxJobItemRecordBytes ? { doc } : { doc: JSON.stringify(withoutFacets(job)) };
  }
  const run = JSON.stringify(latestRun);
  if (total(doc, run) <= maxJobItemRecordBytes) return { doc, latestRun: run };
  const leanRun = JSON.stringify(runWithoutFacets(latestRun));
  if (total(doc, leanRun) <= maxJobItemRecordBytes) return { doc, latestRun: leanRun };
  return { doc: JSON.stringify(withoutFacets(job)), latestRun: leanRun };
}

function jobDocsBytes(docs: { doc: string; latestRun?: string }): number {
  return bytes(docs.doc) + (docs.latestRun === undefined ? 0 : bytes(docs.latestRun));
}

/** A field node's record and its list of input field ids. */
function fieldBytes(record: ColumnLineageRecord, inputs: readonly DatasetFieldNodeId[]): number {
  return inputs.reduce((total, input) => total + bytes(input), bytes(JSON.stringify(record)));
}

/**
 * Refuses to send a record past its budget. An ingestion checks `oversized` before it writes, so this only
 * trips when concurrent events grew a record between that check and the write: not retryable.
 */
function fitting(id: string, size: number, limit: number): void {
  if (size > limit)
    throw new LineageNodeTooLargeError(id, new Error(`record of ${size} bytes, limit ${limit}`));
}

function nodeKey(id: NodeId): ItemKey {
  return keys.lineageNode(id);
}

function parseNode(item: Item): ParsedNode | undefined {
  const node = nodeItemSchema.parse(item);
  if (node.kind === 'job') {
    if (node.doc === undefined) return undefined;
    const job = readDoc(jobRecordSchema, node.doc);
    const stored: StoredJob = {
      job,
      revision: node.revision ?? 0,
      runCount: node.runCount ?? 0,
      userTags: node.userTags,
    };
    if (node.latestRun !== undefined) stored.latestRun = readDoc(runRecordSchema, node.latestRun);
    return {
      kind: 'job',
      stored,
      adjacency: {
        in: job.io.current.inputs.map((ref) => datasetNodeId(ref.namespace, ref.name)),
        out: job.io.current.outputs.map((ref) => datasetNodeId(ref.namespace, ref.name)),
      },
    };
  }
  if (node.kind === 'dataset') {
    if (node.doc === undefined) return undefined;
    const writers = new Set([...node.writers].filter(isJobNodeId));
    const readers = new Set([...node.readers].filter(isJobNodeId));
    return {
      kind: 'dataset',
      stored: {
        dataset: readDoc(datasetRecordSchema, node.doc),
        writers,
        readers,
        lineageFields: node.lineageFields,
        revision: node.revision ?? 0,
        versionCount: node.versionCount ?? 0,
        userTags: node.userTags,
        userFieldTags: fieldTagsOf(node.userFieldTags),
      },
      adjacency: { in: [...writers], out: [...readers] },
    };
  }
  const inputs = (node.inputs ?? []).filter(isDatasetFieldNodeId);
  const consumers = new Set([...node.consumers].filter(isDatasetFieldNodeId));
  const stored: StoredField = { inputs, consumers };
  if (node.doc !== undefined) stored.record = readDoc(columnLineageRecordSchema, node.doc);
  return { kind: 'field', stored, adjacency: { in: inputs, out: [...consumers] } };
}

/**
 * A walk of the lineage graph on the table: node items fetched once per session, in one BatchGet per call.
 * Reads graph nodes only, so a function that only walks the graph needs no raw-event store.
 */
export function openLineageGraph(table: SingleTable): LineageGraphSession {
  const nodes = new Map<NodeId, ParsedNode | undefined>();
  const fetch = async (ids: readonly NodeId[]) => {
    const missing = [...new Set(ids)].filter((id) => !nodes.has(id));
    if (missing.length === 0) return;
    const items = await table.batchGet(missing.map(nodeKey));
    missing.forEach((id, index) => {
      const item = items[index];
      nodes.set(id, item === undefined ? undefined : parseNode(item));
    });
  };
  return {
    get fetched() {
      return nodes.size;
    },
    async neighbours(ids) {
      await fetch(ids);
      const answer = new Map<NodeId, NodeAdjacency>();
      for (const id of ids) {
        const node = nodes.get(id);
        if (node !== undefined) answer.set(id, node.adjacency);
      }
      return answer;
    },
    async records(ids) {
      await fetch(ids);
      const jobs = new Map<JobNodeId, StoredJob>();
      const datasets = new Map<DatasetNodeId, StoredDataset>();
      const fields = new Map<DatasetFieldNodeId, StoredField>();
      for (const [id, node] of nodes) {
        if (node?.kind === 'job' && isJobNodeId(id)) jobs.set(id, node.stored);
        else if (node?.kind === 'dataset' && isDatasetNodeId(id)) datasets.set(id, node.stored);
        else if (node?.kind === 'field' && isDatasetFieldNodeId(id)) fields.set(id, node.stored);
      }
      return { jobs, datasets, fields };
    },
  };
}

/**
 * The lineage store over the single table (docs/data-model.md, Lineage). One node item per job,
 * dataset and dataset field, keyed by its Marquez node id and holding both its record and its edges,
 * so a BFS level of any lineage query is one BatchGet and its cost depends only on the nodes returned.
 */
export class DynamoLineageStore implements LineageStore {
  private readonly knownNamespaces = new Set<string>();
  private readonly knownTags = new Set<string>();
  private readonly knownSources = new Set<string>();

  constructor(
    private readonly table: SingleTable,
    private readonly blobs: BlobStore,
    /** Days a raw event stays after it was received; 0 keeps them (the graph it built stays either way). @default 0 */
    private readonly rawEventRetentionDays = 0,
  ) {}

  async putRawEvent(event: RawLineageEvent): Promise<boolean> {
    const sizeBytes = Buffer.byteLength(event.json, 'utf8');
    let body: { json: string } | { blobKey: string } = { json: event.json };
    if (sizeBytes > maxInlineRawEventBytes) {
      // The object first: an item never points at a blob that is not there.
      const blobKey = `raw-events/${event.eventTime.slice(0, 10)}/${event.eventId}.json`;
      await this.blobs.put(blobKey, event.json);
      body = { blobKey };
    }
    const run = event.kind === 'run';
    const expiresAt = expiresAfter(event.receivedAt, this.rawEventRetentionDays);
    const stored = await this.table.putIfAbsent({
      ...keys.lineageRawEvent(event.eventId),
      eventId: event.eventId,
      eventTime: event.eventTime,
      receivedAt: event.receivedAt,
      sizeBytes,
      kind: event.kind,
      ...body,
      ...(expiresAt === undefined ? {} : { expiresAt }),
      GSI1PK: run ? keys.lineageRawEventsIndex.pk : keys.lineageRawEventsIndex.otherPk,
      GSI1SK: keys.lineageRawEventsIndex.sk(event.eventTime, event.eventId),
    });
    // Counted once, by the write that stored it: a crash between the two leaves it uncounted (a replay
    // finds it stored), the price of no transaction, like a namespace's counts.
    if (stored && run) {
      await this.table.update(keys.lineageStats('EVENTS', statsBucket(event.eventTime)), {
        add: { total: 1, [event.eventType ?? 'NONE']: 1 },
      });
    }
    return stored;
  }

  async ensureNamespaces(namespaces: readonly NamespaceRecord[]): Promise<void> {
    await Promise.all(
      namespaces
        .filter((namespace) => !this.knownNamespaces.has(namespace.name))
        .map(async (namespace) => {
          await this.table.update(keys.lineageNamespace(namespace.name), {
            setIfAbsent: {
              name: namespace.name,
              createdAt: namespace.createdAt,
              updatedAt: namespace.updatedAt,
              ownerName: namespace.ownerName,
            },
          });
          this.knownNamespaces.add(namespace.name);
        }),
    );
  }

  async snapshot(request: SnapshotRequest): Promise<LineageSnapshot> {
    const nodeIds: NodeId[] = [
      ...(request.jobId === undefined ? [] : [request.jobId]),
      ...(request.datasetIds ?? []),
      ...(request.fieldIds ?? []),
    ];
    const requested: ItemKey[] = [
      ...(request.runId === undefined ? [] : [keys.lineageRun(request.runId)]),
      ...nodeIds.map(nodeKey),
    ];
    const items = requested.length === 0 ? [] : await this.table.batchGet(requested);
    const snapshot: {
      run?: StoredRun;
      job?: StoredJob;
      datasets: Map<DatasetNodeId, StoredDataset>;
      fields: Map<DatasetFieldNodeId, StoredField>;
    } = { datasets: new Map(), fields: new Map() };
    let index = 0;
    if (request.runId !== undefined) {
      const item = items[index++];
      if (item !== undefined) snapshot.run = parseRun(item);
    }
    for (const id of nodeIds) {
      const item = items[index++];
      const node = item === undefined ? undefined : parseNode(item);
      if (node?.kind === 'job' && isJobNodeId(id)) snapshot.job = node.stored;
      else if (node?.kind === 'dataset' && isDatasetNodeId(id)) snapshot.datasets.set(id, node.stored);
      else if (node?.kind === 'field' && isDatasetFieldNodeId(id)) snapshot.fields.set(id, node.stored);
    }
    return snapshot;
  }

  oversized(planned: PlannedRecords): OversizedRecord[] {
    const found: OversizedRecord[] = [];
    const check = (kind: OversizedRecord['kind'], id: string, size: number, limit: number) => {
      if (size > limit) found.push({ kind, id, bytes: size, limit });
    };
    if (planned.run !== undefined)
      check('run', planned.run.runId, bytes(runDoc(planned.run)), maxRecordBytes);
    if (planned.job !== undefined) {
      const { job, latestRun } = planned.job;
      check(
        'job',
        jobNodeId(job.namespace, job.name),
        jobDocsBytes(jobDocs(job, latestRun)),
        maxJobItemRecordBytes,
      );
    }
    for (const dataset of planned.datasets ?? []) {
      const id = datasetNodeId(dataset.namespace, dataset.name);
      check('dataset', id, bytes(recordDoc(dataset)), maxRecordBytes);
    }
    for (const version of planned.versions ?? []) {
      const id = datasetNodeId(version.namespace, version.name);
      check('version', id, bytes(recordDoc(version)), maxRecordBytes);
    }
    for (const { record, inputs } of planned.fields ?? []) {
      const id = datasetFieldNodeId(record.namespace, record.dataset, record.field);
      check('field', id, fieldBytes(record, inputs), maxRecordBytes);
    }
    return found;
  }

  async writeRun(run: RunRecord, expectedRevision: number, parentRunId?: string): Promise<boolean> {
    const jobId = jobNodeId(run.namespace, run.jobName);
    const doc = runDoc(run);
    fitting(run.runId, bytes(doc), maxRecordBytes);
    return this.updateItem(run.runId, keys.lineageRun(run.runId), {
      set: {
        doc,
        GSI1PK: keys.lineageRunsOfJobIndex.pk(jobId),
        GSI1SK: keys.lineageRunsOfJobIndex.sk(run.createdAt, run.runId),
        ...(parentRunId === undefined
          ? {}
          : {
              GSI2PK: keys.lineageChildRunsIndex.pk(parentRunId),
              GSI2SK: keys.lineageRunsOfJobIndex.sk(run.createdAt, run.runId),
            }),
      },
      condition: { kind: 'revision', expected: expectedRevision },
    });
  }

  async writeJob(
    job: JobRecord,
    latestRun: RunRecord | undefined,
    expectedRevision: number,
    addRuns = 0,
  ): Promise<boolean> {
    const id = jobNodeId(job.namespace, job.name);
    const docs = jobDocs(job, latestRun);
    fitting(id, jobDocsBytes(docs), maxJobItemRecordBytes);
    if (expectedRevision === 0) await this.register('job', id, job.namespace, job.name, job.createdAt);
    return this.updateNode(id, {
      set: { kind: 'job', ...docs },
      ...(addRuns === 0 ? {} : { add: { runCount: addRuns } }),
      condition: { kind: 'revision', expected: expectedRevision },
    });
  }

  async writeDataset(id: DatasetNodeId, write: DatasetWrite): Promise<boolean> {
    const { dataset } = write;
    const doc = dataset === undefined ? undefined : recordDoc(dataset);
    if (doc !== undefined) fitting(id, bytes(doc), maxRecordBytes);
    if (dataset !== undefined && write.expectedRevision === 0) {
      await this.register('dataset', id, dataset.namespace, dataset.name, dataset.createdAt);
    }
    if (dataset !== undefined) await this.ensureSource(dataset.sourceName, dataset.createdAt);
    return this.updateNode(id, {
      set: doc === undefined ? {} : { kind: 'dataset', doc },
      add: {
        writers: new Set(write.addWriters ?? []),
        readers: new Set(write.addReaders ?? []),
        lineageFields: new Set(write.addLineageFields ?? []),
        ...(write.addVersions === undefined || write.addVersions === 0
          ? {}
          : { versionCount: write.addVersions }),
      },
      ...(dataset === undefined
        ? { condition: { kind: 'exists' } }
        : { condition: { kind: 'revision', expected: write.expectedRevision } }),
    });
  }

  async removeDatasetEdges(
    id: DatasetNodeId,
    edges: { writers?: readonly JobNodeId[]; readers?: readonly JobNodeId[] },
  ): Promise<void> {
    await this.updateNode(id, {
      delete: { writers: new Set(edges.writers ?? []), readers: new Set(edges.readers ?? []) },
      condition: { kind: 'exists' },
    });
  }

  async putDatasetVersions(versions: readonly DatasetVersionRecord[]): Promise<ReadonlySet<DatasetNodeId>> {
    const items = versions.map((version) => {
      const id = datasetNodeId(version.namespace, version.name);
      const doc = recordDoc(version);
      fitting(id, bytes(doc), maxRecordBytes);
      return {
        id,
        item: {
          ...keys.lineageDatasetVersion(id, version.version),
          doc,
          GSI1PK: keys.lineageDatasetVersionsIndex.pk(id),
          GSI1SK: keys.lineageDatasetVersionsIndex.sk(version.createdAt, version.version),
        },
      };
    });
    // A version is immutable: the first write stores it, and the ingestion counts it with its dataset.
    const stored = new Set<DatasetNodeId>();
    await Promise.all(
      items.map(async ({ id, item }) => {
        if (await this.table.putIfAbsent(item)) stored.add(id);
      }),
    );
    return stored;
  }

  async ensureTags(names: readonly string[], createdAt: string): Promise<void> {
    await Promise.all(
      [...new Set(names)]
        .filter((name) => !this.knownTags.has(name))
        .map(async (name) => {
          await this.table.update(keys.lineageTag(name), { setIfAbsent: { name, createdAt } });
          this.knownTags.add(name);
        }),
    );
  }

  async putTag(tag: TagRecord): Promise<TagRecord> {
    const key = keys.lineageTag(tag.name);
    await this.table.update(key, {
      setIfAbsent: { name: tag.name, createdAt: new Date().toISOString() },
      ...(tag.description === undefined ? {} : { set: { description: tag.description } }),
    });
    this.knownTags.add(tag.name);
    return tagItemSchema.parse(await this.table.get(key));
  }

  async tag(target: TagTarget, tag: string, add: boolean): Promise<boolean> {
    const change =
      target.kind === 'field'
        ? { userFieldTags: new Set([JSON.stringify([target.field, tag])]) }
        : { userTags: new Set([tag]) };
    const updated = await this.updateNode(target.id, {
      ...(add ? { add: change } : { delete: change }),
      condition: { kind: 'has', attribute: 'doc' },
    });
    if (updated && add) await this.ensureTags([tag], new Date().toISOString());
    return updated;
  }

  /** Lists a data source the first time a dataset names it, and counts it. */
  private async ensureSource(name: string, createdAt: string): Promise<void> {
    if (this.knownSources.has(name)) return;
    if (await this.table.putIfAbsent({ ...keys.lineageSource(name), name, createdAt })) {
      await this.countCreation('sources', 'SOURCES', createdAt);
    }
    this.knownSources.add(name);
  }

  /** Counts a job, dataset or source in the totals and in the statistics bucket of its creation. */
  private async countCreation(total: 'jobs' | 'datasets' | 'sources', series: StatsSeries, at: string) {
    await Promise.all([
      this.table.update(keys.lineageTotals(), { add: { [total]: 1 } }),
      this.table.update(keys.lineageStats(series, statsBucket(at)), { add: { count: 1 } }),
    ]);
  }

  async writeColumnLineage(
    record: ColumnLineageRecord,
    inputs: readonly DatasetFieldNodeId[],
  ): Promise<boolean> {
    const id = datasetFieldNodeId(record.namespace, record.dataset, record.field);
    fitting(id, fieldBytes(record, inputs), maxRecordBytes);
    return this.updateNode(id, {
      set: { kind: 'field', doc: JSON.stringify(record), inputs: [...inputs], recordTime: record.updatedAt },
      condition: { kind: 'not-after', attribute: 'recordTime', value: record.updatedAt },
    });
  }

  async updateFieldConsumers(
    consumer: DatasetFieldNodeId,
    change: { add: readonly DatasetFieldNodeId[]; remove: readonly DatasetFieldNodeId[] },
  ): Promise<void> {
    const only = new Set([consumer]);
    await Promise.all([
      ...change.add.map((input) =>
        this.updateNode(input, { setIfAbsent: { kind: 'field' }, add: { consumers: only } }),
      ),
      ...change.remove.map((input) =>
        this.updateNode(input, { delete: { consumers: only }, condition: { kind: 'exists' } }),
      ),
    ]);
  }

  private updateNode(id: NodeId, options: UpdateOptions): Promise<boolean> {
    return this.updateItem(id, nodeKey(id), options);
  }

  /** Updates an item; an update that would pass the 400 KB item limit is a `LineageNodeTooLargeError`. */
  private async updateItem(id: string, key: ItemKey, options: UpdateOptions): Promise<boolean> {
    try {
      return await this.table.update(key, options);
    } catch (error) {
      if (isItemTooLarge(error)) throw new LineageNodeTooLargeError(id, error);
      throw error;
    }
  }

  /**
   * Bulk-loads graph nodes as they would be after ingestion (backfills from another lineage store, the
   * benchmark): one item per node with its record and edges, 25 per BatchWriteItem. Does not list them
   * in namespaces or the search index.
   */
  async importNodes(nodes: {
    jobs: readonly JobRecord[];
    datasets: readonly {
      dataset: DatasetRecord;
      writers: readonly JobNodeId[];
      readers: readonly JobNodeId[];
    }[];
  }): Promise<void> {
    const set = (values: readonly string[]) => (values.length === 0 ? undefined : new Set(values));
    await this.table.batchPut([
      ...nodes.jobs.map((job) => ({
        ...nodeKey(jobNodeId(job.namespace, job.name)),
        kind: 'job',
        ...jobDocs(job, undefined),
        revision: 1,
      })),
      ...nodes.datasets.map(({ dataset, writers, readers }) => ({
        ...nodeKey(datasetNodeId(dataset.namespace, dataset.name)),
        kind: 'dataset',
        doc: recordDoc(dataset),
        writers: set(writers),
        readers: set(readers),
        revision: 1,
      })),
    ]);
  }

  /**
   * Lists a new job or dataset in its namespace, the search index and (a job) the list of every job.
   * Idempotent: the member item is put if absent, and only the write that created it counts it.
   */
  private async register(
    kind: 'job' | 'dataset',
    nodeId: NodeId,
    namespace: string,
    name: string,
    createdAt: string,
  ) {
    await this.table.batchPut([
      ...searchTerms(name).map((term) => ({
        ...keys.lineageSearchTerm(term, nodeId),
        nodeId,
        kind,
        namespace,
        name,
      })),
      ...(kind === 'job' ? [{ ...keys.lineageAllJobs(namespace, name), nodeId }] : []),
    ]);
    const created = await this.table.putIfAbsent({
      ...keys.lineageNamespaceMember(kind, namespace, name),
      nodeId,
    });
    if (created) {
      await Promise.all([
        this.table.update(keys.lineageNamespace(namespace), {
          add: { [kind === 'job' ? 'jobCount' : 'datasetCount']: 1 },
        }),
        kind === 'job'
          ? this.countCreation('jobs', 'JOBS', createdAt)
          : this.countCreation('datasets', 'DATASETS', createdAt),
      ]);
    }
  }

  graph(): LineageGraphSession {
    return openLineageGraph(this.table);
  }

  async getNamespace(name: string) {
    const item = await this.table.get(keys.lineageNamespace(name), { consistent: false });
    if (item === undefined) return undefined;
    const namespace = namespaceItemSchema.parse(item);
    return {
      name: namespace.name,
      createdAt: namespace.createdAt,
      updatedAt: namespace.updatedAt,
      ownerName: namespace.ownerName,
      jobCount: namespace.jobCount ?? 0,
      datasetCount: namespace.datasetCount ?? 0,
    };
  }

  async listNamespaces(paging: OffsetPaging): Promise<NamespaceRecord[]> {
    const items = await this.firstItems(
      { partition: keys.lineageNamespacesPartition },
      paging.offset + paging.limit,
    );
    return items.slice(paging.offset).map((item) => {
      const { name, createdAt, updatedAt, ownerName } = namespaceItemSchema.parse(item);
      return { name, createdAt, updatedAt, ownerName };
    });
  }

  async getJob(id: JobNodeId): Promise<StoredJob | undefined> {
    return (await this.snapshot({ jobId: id })).job;
  }

  async listJobs(namespace: string, paging: OffsetPaging): Promise<CountedPage<StoredJob>> {
    return this.listMembers('job', namespace, paging, (node) =>
      node.kind === 'job' ? node.stored : undefined,
    );
  }

  async getDataset(id: DatasetNodeId): Promise<StoredDataset | undefined> {
    return (await this.snapshot({ datasetIds: [id] })).datasets.get(id);
  }

  async listDatasets(namespace: string, paging: OffsetPaging): Promise<CountedPage<StoredDataset>> {
    return this.listMembers('dataset', namespace, paging, (node) =>
      node.kind === 'dataset' ? node.stored : undefined,
    );
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    return (await this.snapshot({ runId })).run?.run;
  }

  async getRuns(runIds: readonly string[]): Promise<ReadonlyMap<string, RunRecord>> {
    const unique = [...new Set(runIds)];
    const items = unique.length === 0 ? [] : await this.table.batchGet(unique.map(keys.lineageRun));
    const runs = new Map<string, RunRecord>();
    unique.forEach((runId, index) => {
      const item = items[index];
      if (item !== undefined) runs.set(runId, parseRun(item).run);
    });
    return runs;
  }

  async listAllJobs(paging: OffsetPaging): Promise<CountedPage<StoredJob>> {
    const [members, totals] = await Promise.all([
      this.firstItems({ partition: keys.lineageAllJobsPartition }, paging.offset + paging.limit),
      this.statsTotals(),
    ]);
    const ids = members.slice(paging.offset).map((item) => memberItemSchema.parse(item).nodeId);
    const nodes = await this.nodes(ids.filter(isJobNodeId));
    const items = [...nodes.values()].flatMap((node) => (node.kind === 'job' ? [node.stored] : []));
    return { items, totalCount: Math.max(totals.jobs, items.length) };
  }

  async listDatasetVersions(
    id: DatasetNodeId,
    paging: OffsetPaging,
  ): Promise<CountedPage<DatasetVersionRecord>> {
    const [items, dataset] = await Promise.all([
      this.firstItems(
        { index: 'GSI1', partition: keys.lineageDatasetVersionsIndex.pk(id), ascending: false },
        paging.offset + paging.limit,
      ),
      this.getDataset(id),
    ]);
    const versions = items
      .slice(paging.offset)
      .map((item) => readDoc(datasetVersionRecordSchema, versionItemSchema.parse(item).doc));
    return { items: versions, totalCount: Math.max(dataset?.versionCount ?? 0, versions.length) };
  }

  async getDatasetVersion(id: DatasetNodeId, version: string): Promise<DatasetVersionRecord | undefined> {
    const item = await this.table.get(keys.lineageDatasetVersion(id, version), { consistent: false });
    return item === undefined
      ? undefined
      : readDoc(datasetVersionRecordSchema, versionItemSchema.parse(item).doc);
  }

  async listTags(paging: OffsetPaging): Promise<TagRecord[]> {
    const items = await this.firstItems(
      { partition: keys.lineageTagsPartition },
      paging.offset + paging.limit,
    );
    return items.slice(paging.offset).map((item) => tagItemSchema.parse(item));
  }

  async statsBuckets(series: StatsSeries, from: string, to: string): Promise<StatsBucket[]> {
    const items = await this.table.queryAll({
      partition: keys.lineageStatsPartition(series),
      between: [from, to],
    });
    return items.map(bucketOf);
  }

  async statsTotals(): Promise<{ jobs: number; datasets: number; sources: number }> {
    const item = await this.table.get(keys.lineageTotals(), { consistent: false });
    const totals = totalsItemSchema.parse(item ?? {});
    return { jobs: totals.jobs ?? 0, datasets: totals.datasets ?? 0, sources: totals.sources ?? 0 };
  }

  async countRawEvents(after: string, before: string): Promise<number> {
    return countEventsInRange(after, before, {
      buckets: async (from, to) =>
        (await this.statsBuckets('EVENTS', from, to)).reduce(
          (sum, { counts }) => sum + (counts.total ?? 0),
          0,
        ),
      events: (from, to) =>
        this.table.count({
          index: 'GSI1',
          partition: keys.lineageRawEventsIndex.pk,
          between: [from, `${to}#~`],
        }),
    });
  }

  async listRuns(jobId: JobNodeId, paging: OffsetPaging): Promise<RunRecord[]> {
    const items = await this.firstItems(
      { index: 'GSI1', partition: keys.lineageRunsOfJobIndex.pk(jobId), ascending: false },
      paging.offset + paging.limit,
    );
    return items.slice(paging.offset).map((item) => parseRun(item).run);
  }

  async listChildRuns(parentRunId: string): Promise<RunRecord[]> {
    const items = await this.table.queryAll({
      index: 'GSI2',
      partition: keys.lineageChildRunsIndex.pk(parentRunId),
    });
    return items.map((item) => parseRun(item).run);
  }

  async searchTerm(prefix: string, limit: number): Promise<SearchCandidate[]> {
    const page = await this.table.query({
      partition: keys.lineageSearchPartition(prefix),
      beginsWith: keys.lineageSearchPrefix(prefix),
      limit,
    });
    return page.items.flatMap((item): SearchCandidate[] => {
      const entry = searchItemSchema.parse(item);
      const nodeId = entry.nodeId;
      if (entry.kind === 'job' && isJobNodeId(nodeId)) return [{ ...entry, kind: 'job' as const, nodeId }];
      if (entry.kind === 'dataset' && isDatasetNodeId(nodeId)) {
        return [{ ...entry, kind: 'dataset' as const, nodeId }];
      }
      return [];
    });
  }

  async listRawEvents(query: RawEventQuery): Promise<{ events: unknown[]; nextCursor?: string }> {
    const page = await this.table.query({
      index: 'GSI1',
      partition: keys.lineageRawEventsIndex.pk,
      between: [query.after, `${query.before}#~`],
      ascending: query.ascending,
      limit: query.offset + query.limit,
      cursor: query.cursor,
    });
    let items = page.items;
    let nextCursor = page.nextCursor;
    // A page may stop short of offset + limit (1 MB per page): follow the cursor.
    while (nextCursor !== undefined && items.length < query.offset + query.limit) {
      const more = await this.table.query({
        index: 'GSI1',
        partition: keys.lineageRawEventsIndex.pk,
        between: [query.after, `${query.before}#~`],
        ascending: query.ascending,
        limit: query.offset + query.limit - items.length,
        cursor: nextCursor,
      });
      items = [...items, ...more.items];
      nextCursor = more.nextCursor;
    }
    const events = await Promise.all(
      items.slice(query.offset).map(async (item) => {
        const raw = rawItemSchema.parse(item);
        const json = raw.json ?? (raw.blobKey === undefined ? undefined : await this.blobs.get(raw.blobKey));
        if (json === undefined) throw new Error('raw lineage event without body');
        const value: unknown = JSON.parse(json);
        return value;
      }),
    );
    return nextCursor === undefined ? { events } : { events, nextCursor };
  }

  /** A page of a namespace's jobs or datasets, by name, with the namespace's count of them. */
  private async listMembers<T>(
    kind: 'job' | 'dataset',
    namespace: string,
    paging: OffsetPaging,
    storedOf: (node: ParsedNode) => T | undefined,
  ): Promise<CountedPage<T>> {
    const [ids, counts] = await Promise.all([
      this.members(kind, namespace, paging),
      this.getNamespace(namespace),
    ]);
    const nodes = await this.nodes(ids.filter(kind === 'job' ? isJobNodeId : isDatasetNodeId));
    const items = [...nodes.values()].flatMap((node) => {
      const stored = storedOf(node);
      return stored === undefined ? [] : [stored];
    });
    return { items, totalCount: (kind === 'job' ? counts?.jobCount : counts?.datasetCount) ?? items.length };
  }

  private async members(kind: 'job' | 'dataset', namespace: string, paging: OffsetPaging): Promise<string[]> {
    const items = await this.firstItems(
      { partition: keys.lineageNamespaceMembersPartition(kind, namespace) },
      paging.offset + paging.limit,
    );
    return items.slice(paging.offset).map((item) => memberItemSchema.parse(item).nodeId);
  }

  private async nodes(ids: readonly NodeId[]): Promise<Map<NodeId, ParsedNode>> {
    const items = ids.length === 0 ? [] : await this.table.batchGet(ids.map(nodeKey));
    const out = new Map<NodeId, ParsedNode>();
    ids.forEach((id, index) => {
      const item = items[index];
      const node = item === undefined ? undefined : parseNode(item);
      if (node !== undefined) out.set(id, node);
    });
    return out;
  }

  /** The first `count` items of a partition in key order, following pages. */
  private async firstItems(
    options: { partition: string; index?: 'GSI1'; ascending?: boolean },
    count: number,
  ): Promise<Item[]> {
    const items: Item[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.table.query({ ...options, limit: count - items.length, cursor });
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== undefined && items.length < count);
    return items;
  }
}

// DynamoDB (and dynalite) refuse such a write with a ValidationException, whose message is all that tells
// it apart from other validation failures.
function isItemTooLarge(error: unknown): boolean {
  return (
    error instanceof Error &&
    error.name === 'ValidationException' &&
    /item size.*exceeded/i.test(error.message)
  );
}

function parseRun(item: Item): StoredRun {
  const run = runItemSchema.parse(item);
  return { run: readDoc(runRecordSchema, run.doc), revision: run.revision };
}
