import type { PackageSummary } from '../contracts/api/packages.js';

export interface ListPackagesQuery {
  readonly namespace?: string | undefined;
  readonly kind?: PackageSummary['kind'] | undefined;
  readonly label?: { readonly key: string; readonly value: string } | undefined;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

export interface PackagePage {
  readonly items: PackageSummary[];
  readonly nextCursor?: string;
}

/** Read access to registered packages (only committed versions are ever visible). */
export interface PackageReader {
  list(query: ListPackagesQuery): Promise<PackagePage>;
}
