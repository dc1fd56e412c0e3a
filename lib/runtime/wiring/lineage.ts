import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoLineageStore } from '../../adapters/dynamodb/lineage-store.js';
import { FileBlobStore } from '../../adapters/local/file-blob-store.js';
import { S3BlobStore } from '../../adapters/s3/blob-store.js';
import type { BlobStore } from '../../ports/blob-store.js';
import type { LineageStore } from '../../ports/lineage-store.js';
import { regionOf, type SharedDependencies, traced } from './shared.js';

export interface LineageDependencies {
  /** OpenLineage runs, jobs, datasets and graph (issue 4). */
  readonly lineage: LineageStore;
}

/** Adds the lineage store; raw events too large for an item go to `overrides.blobs` when given. */
export function withLineage<D extends SharedDependencies>(
  deps: D,
  overrides: { readonly blobs?: BlobStore } = {},
): D & LineageDependencies {
  const lineage = new DynamoLineageStore(
    deps.table,
    overrides.blobs ?? rawEventBlobs(deps),
    deps.config.LINEAGE_EVENT_RETENTION_DAYS,
  );
  return { ...deps, lineage };
}

/** S3 when `RAW_EVENTS_BUCKET` is set (AWS), else files under `RAW_EVENTS_DIR` (or the temp dir). */
function rawEventBlobs(deps: SharedDependencies): BlobStore {
  const { config } = deps;
  const bucket = config.RAW_EVENTS_BUCKET;
  if (bucket !== undefined) {
    // Most events fit an item: the S3 client (and its SDK module) is built for the first that does not.
    let store: Promise<S3BlobStore> | undefined;
    const s3 = () => {
      store ??= import('@aws-sdk/client-s3').then(
        ({ S3Client }) => new S3BlobStore(traced(deps, new S3Client(regionOf(config))), bucket),
      );
      return store;
    };
    return {
      put: async (key, body) => (await s3()).put(key, body),
      get: async (key) => (await s3()).get(key),
    };
  }
  return new FileBlobStore(config.RAW_EVENTS_DIR ?? join(tmpdir(), 'datakit-raw-events'));
}
