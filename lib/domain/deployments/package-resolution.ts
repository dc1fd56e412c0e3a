import type { DataSetDetail } from '../../contracts/api/datasets.js';
import type { PackageVersion } from '../../contracts/api/packages.js';
import { type DataSetManifest, dataSetManifestSchema } from '../../contracts/manifests/dataset.js';
import { type TransformManifest, transformManifestSchema } from '../../contracts/manifests/transform.js';

/** A DataSet's contract as a deployment and a run need it: where it lives and what it holds. */
export interface DataSetContract {
  readonly namespace: string;
  readonly name: string;
  /** The Store it lives in, by name (resolved per cell). */
  readonly store: string;
  readonly location: {
    readonly table?: string | undefined;
    readonly prefix?: string | undefined;
    readonly topic?: string | undefined;
  };
  readonly schema?: readonly {
    readonly name: string;
    readonly type: string;
    readonly pii?: boolean | undefined;
  }[];
  readonly classification?: string | undefined;
}

/** A DataSet a Transform reads or writes, with the cell whose Store holds it. */
export interface BoundDataSet {
  readonly contract: DataSetContract;
  readonly cell: string;
  readonly role: 'input' | 'output';
}

/** A DataSet the package names but no registered package declares: it has no Store to bind. */
export interface UndeclaredDataSet {
  readonly namespace: string;
  readonly name: string;
}

/** A version with its Transform and DataSets bound to cells. */
export interface ResolvedPackage {
  readonly version: PackageVersion;
  /** The Transform manifest, for Transform packages. */
  readonly transform?: TransformManifest | undefined;
  readonly dataSets: readonly BoundDataSet[];
  readonly undeclared: readonly UndeclaredDataSet[];
}

/** Reads a DataSet's contract as the registry shows it (its declaring package's latest version). */
export type DataSetLookup = (namespace: string, name: string) => Promise<DataSetDetail | undefined>;

function contractOfManifest(namespace: string, manifest: DataSetManifest): DataSetContract {
  const spec = manifest.spec;
  return {
    namespace,
    name: manifest.metadata.name,
    store: spec.store,
    location: {
      ...(spec.table === undefined ? {} : { table: spec.table }),
      ...(spec.prefix === undefined ? {} : { prefix: spec.prefix }),
      ...(spec.topic === undefined ? {} : { topic: spec.topic }),
    },
    ...(spec.schema === undefined ? {} : { schema: spec.schema }),
    ...(spec.classification === undefined ? {} : { classification: spec.classification }),
  };
}

function contractOfDetail(detail: DataSetDetail): DataSetContract | undefined {
  if (!detail.declared || detail.store === undefined) return undefined;
  return {
    namespace: detail.namespace,
    name: detail.name,
    store: detail.store,
    location: detail.location ?? {},
    ...(detail.schema === undefined ? {} : { schema: detail.schema }),
    ...(detail.classification === undefined ? {} : { classification: detail.classification }),
  };
}

/**
 * Binds a version's DataSets to cells: a Transform's named inputs and outputs (an input with `cell:`
 * reads that cell; everything else lives in `cell`), or a DataSet package's own DataSets. Contracts come
 * from the package itself first (it may carry `dataset/*.yaml`), then from the registry.
 */
export async function resolvePackage(
  version: PackageVersion,
  cell: string,
  lookup: DataSetLookup,
): Promise<ResolvedPackage> {
  const own = new Map<string, DataSetContract>();
  for (const manifest of version.datasets) {
    const parsed = dataSetManifestSchema.safeParse(manifest);
    if (parsed.success)
      own.set(parsed.data.metadata.name, contractOfManifest(version.namespace, parsed.data));
  }
  const transformParsed =
    version.kind === 'Transform' ? transformManifestSchema.safeParse(version.manifest) : undefined;
  const transform = transformParsed?.success === true ? transformParsed.data : undefined;

  const wanted: { namespace: string; name: string; cell: string; role: 'input' | 'output' }[] = [];
  if (transform !== undefined) {
    const inputCells = new Map(
      transform.spec.inputs.flatMap((input) =>
        input.dataset === undefined || input.cell === undefined ? [] : [[input.dataset, input.cell] as const],
      ),
    );
    for (const ref of version.inputs)
      wanted.push({ ...ref, cell: inputCells.get(ref.name) ?? cell, role: 'input' });
    for (const ref of version.outputs) wanted.push({ ...ref, cell, role: 'output' });
  } else if (version.kind === 'DataSet') {
    for (const contract of own.values())
      wanted.push({ namespace: contract.namespace, name: contract.name, cell, role: 'output' });
  }

  const dataSets: BoundDataSet[] = [];
  const undeclared: UndeclaredDataSet[] = [];
  await Promise.all(
    wanted.map(async (want) => {
      const contract =
        (want.namespace === version.namespace ? own.get(want.name) : undefined) ??
        contractOfDetailOrUndefined(await lookup(want.namespace, want.name));
      if (contract === undefined) undeclared.push({ namespace: want.namespace, name: want.name });
      else dataSets.push({ contract, cell: want.cell, role: want.role });
    }),
  );
  // Keep the manifest's order: inputs, then outputs, as declared.
  const order = new Map(wanted.map((want, index) => [`${want.role}:${want.namespace}/${want.name}`, index]));
  const position = (role: string, namespace: string, name: string) =>
    order.get(`${role}:${namespace}/${name}`) ?? 0;
  dataSets.sort(
    (a, b) =>
      position(a.role, a.contract.namespace, a.contract.name) -
      position(b.role, b.contract.namespace, b.contract.name),
  );
  return { version, transform, dataSets, undeclared };
}

function contractOfDetailOrUndefined(detail: DataSetDetail | undefined): DataSetContract | undefined {
  return detail === undefined ? undefined : contractOfDetail(detail);
}

/** Every Store a resolved package needs, per cell. */
export function storesNeeded(resolved: ResolvedPackage): Map<string, Set<string>> {
  const byCell = new Map<string, Set<string>>();
  for (const dataSet of resolved.dataSets) {
    const stores = byCell.get(dataSet.cell) ?? new Set<string>();
    stores.add(dataSet.contract.store);
    byCell.set(dataSet.cell, stores);
  }
  return byCell;
}
