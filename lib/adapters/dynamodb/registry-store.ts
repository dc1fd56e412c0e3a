import * as z from 'zod';
import type { DataSetDetail, DataSetSummary, PackageVersionRef } from '../../contracts/api/datasets.js';
import type { Deprecation } from '../../contracts/api/deprecations.js';
import type { PackageDetail, PackageVersion } from '../../contracts/api/packages.js';
import type { RegistrationRecord } from '../../contracts/api/registrations.js';
import type { dataSetManifestSchema } from '../../contracts/manifests/dataset.js';
import type { IndexName } from '../../contracts/table.js';
import type {
  DataSetDeclaration,
  PackageHead,
  PipelineEdge,
  StagedVersion,
} from '../../domain/registry/model.js';
import type {
  DataSetCatalog,
  ListDataSetsQuery,
  ListPackagesQuery,
  ListRegistrationsQuery,
  PackagePage,
  PackageReader,
  Page,
} from '../../ports/package-repository.js';
import type { RegistryStore, StageResult } from '../../ports/registry-store.js';
import { encodeCursor } from './cursor.js';
import { deprecationItemSchema, readDeprecation } from './deprecation-store.js';
import { keys } from './keys.js';
import { detailOf, packageHeadItem, readPackageHead, summarize } from './package-heads.js';
import { expiresAfter } from './retention.js';
import type { Item, SingleTable } from './single-table.js';

/**
 * The contracts stored items are parsed with, built on first use: a function holding the store serves
 * some of its reads, and building every contract at load was most of its cold start above the SDK's
 * (ADR 0012).
 */
async function loadContracts() {
  const [packages, registrations, dataset] = await Promise.all([
    import('../../contracts/api/packages.js'),
    import('../../contracts/api/registrations.js'),
    import('../../contracts/manifests/dataset.js'),
  ]);
  return {
    packageVersionSchema: packages.packageVersionSchema,
    registrationRecordSchema: registrations.registrationRecordSchema,
    dataSetManifestSchema: dataset.dataSetManifestSchema,
  };
}
let loadedContracts: ReturnType<typeof loadContracts> | undefined;
const contracts = () => {
  loadedContracts ??= loadContracts();
  return loadedContracts;
};

const dataSetRef = z.object({ namespace: z.string(), name: z.string() });

/** A staged declaration or edge as stored: the version it belongs to and the DataSet it is about. */
const stagedGraphItemSchema = z.object({
  type: z.enum(['declaration', 'edge']),
  namespace: z.string(),
  name: z.string(),
  version: z.string(),
  digest: z.string(),
  dataset: dataSetRef,
  role: z.enum(['producer', 'consumer']).optional(),
  manifest: z.record(z.string(), z.unknown()).optional(),
});

type StagedGraphItem = z.infer<typeof stagedGraphItemSchema>;

/** The items of one DataSet's partition (or its GSI1 group): staged items and its deprecation. */
interface DataSetItems {
  readonly staged: StagedGraphItem[];
  deprecation?: Deprecation;
}

/** The DataSet an item of a DataSet partition is about (staged items and deprecations name it). */
function dataSetOfItem(item: Item): { readonly namespace: string; readonly name: string } | undefined {
  const staged = stagedGraphItemSchema.safeParse(item);
  if (staged.success) return staged.data.dataset;
  const deprecation = deprecationItemSchema.safeParse(item);
  return deprecation.success ? deprecation.data.dataset : undefined;
}

/** Sorts a DataSet's items into staged items and its deprecation. */
function dataSetItems(items: readonly Item[]): DataSetItems {
  const grouped: DataSetItems = { staged: [] };
  for (const item of items) {
    const staged = stagedGraphItemSchema.safeParse(item);
    if (staged.success) {
      grouped.staged.push(staged.data);
      continue;
    }
    const deprecation = readDeprecation(item);
    if (deprecation !== undefined) grouped.deprecation = deprecation;
  }
  return grouped;
}

/** Heads of packages and their deprecations, by `namespace/name`. */
interface Heads {
  readonly heads: ReadonlyMap<string, PackageHead>;
  readonly deprecations: ReadonlyMap<string, Deprecation>;
}

/** How long registration records that are not the claim of a committed version stay. */
export interface RegistryRetention {
  /** Days a `duplicate` or `rejected` record is kept; 0 keeps them. @default 0 */
  readonly registrationRetentionDays?: number;
}

/**
 * The registry on the single table (docs/data-model.md, Registry). Writes stage a version's items and
 * commit it through the package head; reads join every staged item against the heads, so a version is
 * visible completely or not at all.
 */
export class DynamoRegistry implements RegistryStore, PackageReader {
  constructor(
    private readonly table: SingleTable,
    private readonly retention: RegistryRetention = {},
  ) {}

  // --- RegistryStore --------------------------------------------------------------------------

  async getHead(namespace: string, name: string): Promise<PackageHead | undefined> {
    const item = await this.table.get(keys.package(namespace, name));
    return item === undefined ? undefined : readPackageHead(item);
  }

  async stageVersion(staged: StagedVersion): Promise<StageResult> {
    const { detail } = staged;
    const key = keys.packageVersion(detail.namespace, detail.name, detail.version);
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await this.table.putIfAbsentOrSame({ ...key, ...detail }, 'digest')) return { claimed: true };
      const holder = await this.table.get(key);
      const digest = holder?.digest;
      if (typeof digest === 'string') return { claimed: false, digest };
    }
    throw new Error(`version ${detail.namespace}/${detail.name} ${detail.version} could not be staged`);
  }

  async stageGraph(staged: StagedVersion): Promise<void> {
    await this.table.batchPut([
      ...staged.declarations.map((declaration) => declarationItem(declaration)),
      ...staged.edges.map((edge) => edgeItem(edge)),
    ]);
  }

  async commitHead(head: PackageHead): Promise<void> {
    await this.table.putWithRevision(packageHeadItem(head), head.revision);
  }

  async claimRegistration(record: RegistrationRecord): Promise<boolean> {
    const sk = keys.registrationsIndex.sk(record.createdAt, record.id);
    // A `registered` record is the claim that announces a committed version exactly once: it stays as
    // long as the version does (forever). Duplicates and rejections are history, kept for the retention.
    const expiresAt =
      record.status === 'registered'
        ? undefined
        : expiresAfter(record.createdAt, this.retention.registrationRetentionDays ?? 0);
    return this.table.putIfAbsent({
      ...keys.registration(record.id),
      ...record,
      ...(expiresAt === undefined ? {} : { expiresAt }),
      GSI1PK: keys.registrationsIndex.pk,
      GSI1SK: sk,
      GSI2PK: keys.registrationsIndex.byStatus(record.status),
      GSI2SK: sk,
      ...(record.namespace === undefined || record.name === undefined || record.version === undefined
        ? {}
        : {
            GSI3PK: keys.registrationsIndex.ofPackage(record.namespace, record.name),
            GSI3SK: keys.registrationsIndex.ofVersionSk(record.version, sk),
          }),
    });
  }

  async releaseRegistration(id: string): Promise<void> {
    await this.table.delete(keys.registration(id));
  }

  // --- PackageReader --------------------------------------------------------------------------

  async list(query: ListPackagesQuery): Promise<PackagePage> {
    const scope: ListScope = {
      index: query.kind === undefined ? 'GSI1' : 'GSI2',
      partition: query.kind === undefined ? keys.packagesIndex.pk : keys.packagesByKindIndex.pk(query.kind),
      ...(query.namespace === undefined ? {} : { beginsWith: keys.packagesIndex.sk(query.namespace, '') }),
    };
    const page = await this.table.query({
      ...scope,
      limit: query.limit,
      cursor: query.cursor,
    });
    // Filtered here, not with a FilterExpression: a label key may hold dots (`app.kubernetes.io/name`),
    // which an expression would read as a path into nested maps. Either way a page may hold fewer than
    // `limit` items and its cursor continues where the query stopped.
    const { label } = query;
    const items = page.items
      .map((item) => readPackageHead(item))
      .filter(
        (head) =>
          label === undefined ||
          (Object.hasOwn(head.labels, label.key) && head.labels[label.key] === label.value),
      )
      .map((head) => summarize(head));
    return page.nextCursor === undefined ? { items } : { items, nextCursor: page.nextCursor };
  }

  async get(namespace: string, name: string): Promise<PackageDetail | undefined> {
    // The head and its deprecation are the partition's only items whose sort key starts with `#`.
    const items = await this.table.queryAll({
      partition: keys.packagePartition(namespace, name),
      beginsWith: keys.packageSingletonsPrefix,
      consistent: true,
    });
    const headItem = items.find((item) => item.SK === keys.package(namespace, name).SK);
    if (headItem === undefined) return undefined;
    const deprecationItem = items.find((item) => item.SK === keys.packageDeprecation(namespace, name).SK);
    const deprecation = deprecationItem === undefined ? undefined : readDeprecation(deprecationItem);
    const detail = detailOf(readPackageHead(headItem));
    return deprecation === undefined ? detail : { ...detail, deprecation };
  }

  async getVersion(namespace: string, name: string, version: string): Promise<PackageVersion | undefined> {
    const [headItem, detailItem] = await this.table.batchGet([
      keys.package(namespace, name),
      keys.packageVersion(namespace, name, version),
    ]);
    if (headItem === undefined || detailItem === undefined) return undefined;
    const entry = readPackageHead(headItem).versions[version];
    const { packageVersionSchema } = await contracts();
    const detail = packageVersionSchema.parse(detailItem);
    if (entry === undefined || entry.digest !== detail.digest || detail.version !== version) return undefined;
    return { ...detail, registeredAt: entry.registeredAt };
  }

  async listDataSets(query: ListDataSetsQuery): Promise<Page<DataSetSummary>> {
    const groups: Item[][] = [];
    const scope: ListScope = {
      index: 'GSI1',
      partition: keys.datasetsIndex.pk,
      ...(query.namespace === undefined ? {} : { beginsWith: keys.datasetsIndex.prefix(query.namespace) }),
    };
    let cursor = query.cursor;
    let nextCursor: string | undefined;
    let current: { id: string; items: Item[] } | undefined;
    // Read whole DataSets: a page ends between two DataSets, never inside one.
    scan: for (;;) {
      const page = await this.table.query({ ...scope, limit: Math.max(25, query.limit * 4), cursor });
      for (const item of page.items) {
        const dataset = dataSetOfItem(item);
        if (dataset === undefined) continue;
        const id = `${dataset.namespace}/${dataset.name}`;
        if (current?.id !== id) {
          if (current !== undefined) groups.push(current.items);
          if (groups.length === query.limit) {
            const last = current?.items.at(-1);
            nextCursor = last === undefined ? undefined : indexCursor(last);
            current = undefined;
            break scan;
          }
          current = { id, items: [] };
        }
        current.items.push(item);
      }
      if (page.nextCursor === undefined) break;
      cursor = page.nextCursor;
    }
    if (current !== undefined) groups.push(current.items);

    const parsedGroups = groups.map(dataSetItems);
    const heads = await this.headsOf(parsedGroups.flatMap((group) => group.staged));
    const { dataSetManifestSchema } = await contracts();
    const items = parsedGroups.flatMap((group) => {
      const summary = summarizeDataSet(group, heads, dataSetManifestSchema);
      return summary === undefined ? [] : [summary.summary];
    });
    return nextCursor === undefined ? { items } : { items, nextCursor };
  }

  async dataSetCatalog(): Promise<DataSetCatalog> {
    const items = await this.table.queryAll({ index: 'GSI1', partition: keys.datasetsIndex.pk });
    // GSI1 sorts a DataSet's items together (`{ns}#{name}#…`): one group per run of the same DataSet.
    const groups: Item[][] = [];
    let current: { id: string; items: Item[] } | undefined;
    for (const item of items) {
      const dataset = dataSetOfItem(item);
      if (dataset === undefined) continue;
      const id = `${dataset.namespace}/${dataset.name}`;
      if (current?.id !== id) {
        current = { id, items: [] };
        groups.push(current.items);
      }
      current.items.push(item);
    }
    const parsedGroups = groups.map(dataSetItems);
    const heads = await this.headsOf(parsedGroups.flatMap((group) => group.staged));
    const { dataSetManifestSchema } = await contracts();
    const dataSets = parsedGroups.flatMap((group) => {
      const summary = summarizeDataSet(group, heads, dataSetManifestSchema);
      return summary === undefined ? [] : [withSchema(summary)];
    });
    const packages = [...heads.heads.values()].map((head) => {
      const deprecation = heads.deprecations.get(packageId(head));
      return deprecation === undefined ? summarize(head) : { ...summarize(head), deprecation };
    });
    return { dataSets, packages };
  }

  async getDataSet(namespace: string, name: string): Promise<DataSetDetail | undefined> {
    const items = dataSetItems(
      await this.table.queryAll({ partition: keys.datasetPartition(namespace, name) }),
    );
    const { dataSetManifestSchema } = await contracts();
    const summary = summarizeDataSet(items, await this.headsOf(items.staged), dataSetManifestSchema);
    return summary === undefined ? undefined : withSchema(summary);
  }

  async pipelineEdges(): Promise<PipelineEdge[]> {
    const items = await this.table.queryAll({ index: 'GSI2', partition: keys.pipelineEdgesIndex.pk });
    const staged = items.flatMap((item) => {
      const parsed = stagedGraphItemSchema.safeParse(item);
      return parsed.success && parsed.data.role !== undefined ? [parsed.data] : [];
    });
    const { heads } = await this.headsOf(staged);
    return staged.flatMap((item) =>
      item.role !== undefined && isCurrent(item, heads)
        ? [
            {
              namespace: item.namespace,
              name: item.name,
              version: item.version,
              digest: item.digest,
              dataset: item.dataset,
              role: item.role,
            },
          ]
        : [],
    );
  }

  async registrationsOfVersion(
    namespace: string,
    name: string,
    version: string,
  ): Promise<RegistrationRecord[]> {
    const items = await this.table.queryAll({
      index: 'GSI3',
      partition: keys.registrationsIndex.ofPackage(namespace, name),
      beginsWith: keys.registrationsIndex.ofVersionSk(version, ''),
    });
    const { registrationRecordSchema } = await contracts();
    return items.map((item) => registrationRecordSchema.parse(item));
  }

  async listRegistrations(query: ListRegistrationsQuery): Promise<Page<RegistrationRecord>> {
    const scope: ListScope = {
      index: query.status === undefined ? 'GSI1' : 'GSI2',
      partition:
        query.status === undefined
          ? keys.registrationsIndex.pk
          : keys.registrationsIndex.byStatus(query.status),
    };
    const page = await this.table.query({
      ...scope,
      ascending: false,
      limit: query.limit,
      cursor: query.cursor,
    });
    const { registrationRecordSchema } = await contracts();
    const items = page.items.map((item) => registrationRecordSchema.parse(item));
    return page.nextCursor === undefined ? { items } : { items, nextCursor: page.nextCursor };
  }

  /**
   * The heads of every package the items belong to, and their deprecations (a DataSet inherits its
   * declaring package's), in one BatchGet (per 50 packages).
   */
  private async headsOf(items: readonly StagedGraphItem[]): Promise<Heads> {
    const packages = [
      ...new Map(
        items.map((item) => [packageId(item), { namespace: item.namespace, name: item.name }]),
      ).values(),
    ];
    const found = await this.table.batchGet(
      packages.flatMap((pkg) => [
        keys.package(pkg.namespace, pkg.name),
        keys.packageDeprecation(pkg.namespace, pkg.name),
      ]),
    );
    const heads = new Map<string, PackageHead>();
    const deprecations = new Map<string, Deprecation>();
    packages.forEach((pkg, index) => {
      const head = found[2 * index];
      const deprecation = found[2 * index + 1];
      if (head !== undefined) heads.set(packageId(pkg), readPackageHead(head));
      const read = deprecation === undefined ? undefined : readDeprecation(deprecation);
      if (read !== undefined) deprecations.set(packageId(pkg), read);
    });
    return { heads, deprecations };
  }
}

/** The index range a list reads (its cursors are checked against it by SingleTable.query). */
interface ListScope {
  readonly index: IndexName;
  readonly partition: string;
  readonly beginsWith?: string;
}

function declarationItem(declaration: DataSetDeclaration): Item {
  const key = keys.datasetDeclaration(declaration.dataset, declaration);
  return {
    ...key,
    type: 'declaration',
    ...versionFields(declaration),
    dataset: { ...declaration.dataset },
    manifest: { ...declaration.manifest },
    GSI1PK: keys.datasetsIndex.pk,
    GSI1SK: keys.datasetsIndex.sk(declaration.dataset.namespace, declaration.dataset.name, key.SK),
  };
}

function edgeItem(edge: PipelineEdge): Item {
  const key = keys.pipelineEdge(edge.dataset, edge.role, edge);
  return {
    ...key,
    type: 'edge',
    ...versionFields(edge),
    dataset: { ...edge.dataset },
    role: edge.role,
    GSI1PK: keys.datasetsIndex.pk,
    GSI1SK: keys.datasetsIndex.sk(edge.dataset.namespace, edge.dataset.name, key.SK),
    GSI2PK: keys.pipelineEdgesIndex.pk,
    GSI2SK: keys.pipelineEdgesIndex.sk(edge.dataset.namespace, edge.dataset.name, key.SK),
  };
}

function versionFields(key: { namespace: string; name: string; version: string; digest: string }) {
  return { namespace: key.namespace, name: key.name, version: key.version, digest: key.digest };
}

/** The GSI1 cursor that continues right after `item`. */
function indexCursor(item: Item): string | undefined {
  return encodeCursor({ PK: item.PK, SK: item.SK, GSI1PK: item.GSI1PK, GSI1SK: item.GSI1SK });
}

function packageId(item: { namespace: string; name: string }): string {
  return `${item.namespace}/${item.name}`;
}

/** Visible (its head lists the version with the same digest) and of the package's latest version. */
function isCurrent(item: StagedGraphItem, heads: ReadonlyMap<string, PackageHead>): boolean {
  const head = heads.get(packageId(item));
  return (
    head !== undefined &&
    head.latestVersion === item.version &&
    head.versions[item.version]?.digest === item.digest
  );
}

/**
 * A DataSet from the current items about it: the contract from the package that owns it (a DataSet
 * package of the same name) or else the most recently registered declaration; producers and consumers
 * from the Transforms' latest versions. Undefined when nothing about it is visible.
 */
function summarizeDataSet(
  items: DataSetItems,
  { heads, deprecations }: Heads,
  contractSchema: typeof dataSetManifestSchema,
): { summary: DataSetSummary; contract: z.infer<typeof dataSetManifestSchema> | undefined } | undefined {
  const current = items.staged.filter((item) => isCurrent(item, heads));
  const first = current[0];
  if (first === undefined) return undefined;
  const ref = (item: StagedGraphItem): PackageVersionRef => ({
    namespace: item.namespace,
    name: item.name,
    version: item.version,
  });
  const registeredAt = (item: StagedGraphItem) =>
    heads.get(packageId(item))?.versions[item.version]?.registeredAt ?? '';
  const declarations = current
    .filter((item) => item.type === 'declaration')
    .sort((a, b) => {
      const own = (item: StagedGraphItem) =>
        heads.get(packageId(item))?.kind === 'DataSet' && item.name === item.dataset.name ? 1 : 0;
      return own(b) - own(a) || registeredAt(b).localeCompare(registeredAt(a));
    });
  const declaration = declarations[0];
  const parsed = declaration === undefined ? undefined : contractSchema.safeParse(declaration.manifest);
  const contract = parsed?.success === true ? parsed.data : undefined;
  const spec = contract?.spec;
  const location = {
    ...(spec?.table === undefined ? {} : { table: spec.table }),
    ...(spec?.prefix === undefined ? {} : { prefix: spec.prefix }),
    ...(spec?.topic === undefined ? {} : { topic: spec.topic }),
  };
  // Its own deprecation, else that of the package declaring its contract.
  const inherited = declaration === undefined ? undefined : deprecations.get(packageId(declaration));
  const deprecation =
    items.deprecation ??
    (declaration === undefined || inherited === undefined
      ? undefined
      : { ...inherited, package: { namespace: declaration.namespace, name: declaration.name } });
  const summary: DataSetSummary = {
    namespace: first.dataset.namespace,
    name: first.dataset.name,
    declared: declaration !== undefined,
    ...(declaration === undefined ? {} : { declaredBy: ref(declaration) }),
    ...(contract?.metadata.version === undefined ? {} : { version: contract.metadata.version }),
    ...(spec === undefined ? {} : { store: spec.store, location }),
    ...(spec?.format === undefined ? {} : { format: spec.format }),
    ...(spec?.classification === undefined ? {} : { classification: spec.classification }),
    labels: { ...(contract?.metadata.labels ?? {}) },
    producers: current.filter((item) => item.role === 'producer').map(ref),
    consumers: current.filter((item) => item.role === 'consumer').map(ref),
    ...(deprecation === undefined ? {} : { deprecation }),
  };
  return { summary, contract };
}

/** A DataSet's summary with its schema (the detail a single read answers). */
function withSchema(summary: {
  summary: DataSetSummary;
  contract: z.infer<typeof dataSetManifestSchema> | undefined;
}): DataSetDetail {
  const spec = summary.contract?.spec;
  return {
    ...summary.summary,
    ...(spec?.schema === undefined ? {} : { schema: spec.schema }),
    ...(spec?.schemaRef === undefined ? {} : { schemaRef: spec.schemaRef }),
  };
}
