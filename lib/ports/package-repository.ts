import type { DataSetDetail, DataSetSummary } from '../contracts/api/datasets.js';
import type { Deprecation } from '../contracts/api/deprecations.js';
import type { PackageDetail, PackageSummary, PackageVersion } from '../contracts/api/packages.js';
import type { RegistrationRecord, RegistrationStatus } from '../contracts/api/registrations.js';
import type { PipelineEdge } from '../domain/registry/model.js';

export interface ListPackagesQuery {
  readonly namespace?: string | undefined;
  readonly kind?: PackageSummary['kind'] | undefined;
  readonly label?: { readonly key: string; readonly value: string } | undefined;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

export interface ListDataSetsQuery {
  readonly namespace?: string | undefined;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

export interface ListRegistrationsQuery {
  readonly status?: RegistrationStatus | undefined;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

export interface Page<T> {
  readonly items: T[];
  readonly nextCursor?: string;
}

export type PackagePage = Page<PackageSummary>;

/** Every visible DataSet with its contract, and every package they name (with its deprecation). */
export interface DataSetCatalog {
  readonly dataSets: DataSetDetail[];
  readonly packages: (PackageSummary & { readonly deprecation?: Deprecation })[];
}

/** Read access to the registry: only committed versions (and what they staged) are ever visible. */
export interface PackageReader {
  list(query: ListPackagesQuery): Promise<PackagePage>;
  /** One package with its versions: one read. */
  get(namespace: string, name: string): Promise<PackageDetail | undefined>;
  /** One version: one round trip (head and detail together). */
  getVersion(namespace: string, name: string, version: string): Promise<PackageVersion | undefined>;
  listDataSets(query: ListDataSetsQuery): Promise<Page<DataSetSummary>>;
  getDataSet(namespace: string, name: string): Promise<DataSetDetail | undefined>;
  /**
   * Every DataSet with its contract, and the packages declaring, producing or consuming them: one read of
   * every declaration and edge (a whole-registry read, for the governance report).
   */
  dataSetCatalog(): Promise<DataSetCatalog>;
  /** Every visible edge of each package's latest version. */
  pipelineEdges(): Promise<PipelineEdge[]>;
  listRegistrations(query: ListRegistrationsQuery): Promise<Page<RegistrationRecord>>;
  /** Every registration of one version of a package (how a deploy tells "rejected" from "unknown"). */
  registrationsOfVersion(namespace: string, name: string, version: string): Promise<RegistrationRecord[]>;
}
