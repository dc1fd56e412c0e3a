import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
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
  if (config.RAW_EVENTS_BUCKET !== undefined) {
    return new S3BlobStore(traced(deps, new S3Client(regionOf(config))), config.RAW_EVENTS_BUCKET);
  }
  return new FileBlobStore(config.RAW_EVENTS_DIR ?? join(tmpdir(), 'datakit-raw-events'));
}
