import { dataKitRunProducer } from '../../contracts/events/lineage.js';
import type { StoreManifest } from '../../contracts/manifests/store.js';
import type { DataSetContract } from '../deployments/package-resolution.js';
import type { RunDataSetIo, RunRecord } from './model.js';

/** Who produced the events a run emits (OpenLineage `producer` and facets' `_producer`). */
export const dataKitProducer = dataKitRunProducer;
const specUrl = 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent';
const facetUrl = (facet: string) => `https://openlineage.io/spec/facets/1-0-1/${facet}.json`;

/** The OpenLineage identity of a dataset. */
export interface LineageDatasetName {
  readonly namespace: string;
  readonly name: string;
}

const trimSlashes = (path: string): string => path.replace(/^\/+|\/+$/g, '');

/** A connection value usable in a name: literal text only (a `${VAR}` is a secret and never named). */
function literal(store: StoreManifest, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const value = store.spec.connection[key];
    if (typeof value === 'number') return String(value);
    if (typeof value === 'string' && value !== '' && !value.includes('${')) return value;
  }
  return undefined;
}

/**
 * The OpenLineage name of a DataSet in a cell, by the naming conventions (`NAMING.md`) from its Store's
 * connection and its table, prefix or topic, so any producer writing the same place meets the same node:
 * S3 `s3://{bucket}` + key prefix, Postgres `postgres://{host}:{port}` + `{db}.{schema}.{table}`, MySQL
 * `mysql://{host}:{port}` + `{db}.{table}`, Kafka `kafka://{first bootstrap server}` + topic, Snowflake
 * `snowflake://{account}`, BigQuery `bigquery`, files `file`. Other connectors, or a location only a
 * secret knows, get `datakit://{cell}/{store}`.
 */
export function lineageNameOf(
  contract: DataSetContract,
  cell: string,
  store: StoreManifest,
): LineageDatasetName {
  const spec = contract.location;
  const location =
    spec.table ?? (spec.prefix === undefined ? undefined : trimSlashes(spec.prefix)) ?? spec.topic ?? '';
  const fallback = { namespace: `datakit://${cell}/${store.metadata.name}`, name: location };
  const host = literal(store, 'host');
  switch (store.spec.connector.toLowerCase()) {
    case 's3': {
      const bucket = literal(store, 'bucket');
      return bucket === undefined ? fallback : { namespace: `s3://${bucket}`, name: location };
    }
    case 'postgres':
    case 'postgresql': {
      const database = literal(store, 'dbname', 'database');
      if (database === undefined || spec.table === undefined) return fallback;
      const parts = spec.table.split('.');
      const qualified =
        parts.length >= 3
          ? spec.table
          : parts.length === 2
            ? `${database}.${spec.table}`
            : `${database}.public.${spec.table}`;
      return {
        namespace: `postgres://${host ?? 'localhost'}:${literal(store, 'port') ?? '5432'}`,
        name: qualified,
      };
    }
    case 'mysql': {
      const database = literal(store, 'dbname', 'database');
      if (database === undefined || spec.table === undefined) return fallback;
      const name = spec.table.includes('.') ? spec.table : `${database}.${spec.table}`;
      return { namespace: `mysql://${host ?? 'localhost'}:${literal(store, 'port') ?? '3306'}`, name };
    }
    case 'kafka': {
      const servers = literal(store, 'bootstrapServers', 'brokers') ?? 'localhost:9092';
      const first = servers.split(',')[0]?.trim() ?? servers;
      return { namespace: `kafka://${first}`, name: spec.topic ?? location };
    }
    case 'snowflake': {
      const account = literal(store, 'account');
      return account === undefined ? fallback : { namespace: `snowflake://${account}`, name: location };
    }
    case 'bigquery':
      return { namespace: 'bigquery', name: location };
    case 'file':
    case 'local':
      return { namespace: 'file', name: location };
    default:
      return fallback;
  }
}

/** The DataKit identity of a DataSet as a `symlinks` identifier (how a reader finds the contract). */
export function dataKitSymlink(io: Pick<RunDataSetIo, 'cell' | 'namespace' | 'name'>) {
  return { namespace: `datakit://${io.cell}/${io.namespace}`, name: io.name, type: 'DATAKIT_DATASET' };
}

function datasetOf(io: RunDataSetIo) {
  return {
    ...io.lineage,
    facets: {
      symlinks: {
        _producer: dataKitProducer,
        _schemaURL: facetUrl('SymlinksDatasetFacet'),
        identifiers: [dataKitSymlink(io)],
      },
      ...(io.schema === undefined
        ? {}
        : {
            schema: {
              _producer: dataKitProducer,
              _schemaURL: facetUrl('SchemaDatasetFacet'),
              fields: io.schema.map((field) => ({ name: field.name, type: field.type })),
            },
          }),
    },
  };
}

export interface RunLineageInput {
  readonly run: RunRecord;
  readonly eventType: 'START' | 'COMPLETE' | 'FAIL' | 'ABORT';
  /** The upstream run this run was triggered by, as the OpenLineage parent. */
  readonly parent?: { readonly namespace: string; readonly name: string; readonly runId: string } | undefined;
}

/**
 * The OpenLineage event of a run transition, built only from the run record (its times and the
 * DataSets Prepare resolved), so a retried step builds the same event and the lineage store drops it.
 */
export function runLineageEvent(input: RunLineageInput): Record<string, unknown> {
  const { run, eventType } = input;
  const eventTime =
    eventType === 'START' ? (run.startedAt ?? run.createdAt) : (run.finishedAt ?? run.updatedAt);
  const runFacets: Record<string, unknown> = {};
  if (input.parent !== undefined) {
    runFacets.parent = {
      _producer: dataKitProducer,
      _schemaURL: facetUrl('ParentRunFacet'),
      run: { runId: input.parent.runId },
      job: { namespace: input.parent.namespace, name: input.parent.name },
    };
  }
  if (eventType === 'FAIL' && run.error !== undefined) {
    runFacets.errorMessage = {
      _producer: dataKitProducer,
      _schemaURL: facetUrl('ErrorMessageRunFacet'),
      message: `${run.error.code}: ${run.error.message}`,
      programmingLanguage: 'datakit',
    };
  }
  return {
    eventType,
    eventTime,
    producer: dataKitProducer,
    schemaURL: specUrl,
    run: { runId: run.runId, facets: runFacets },
    job: {
      namespace: run.lineage.namespace,
      name: run.lineage.name,
      facets: {
        jobType: {
          _producer: dataKitProducer,
          _schemaURL: facetUrl('JobTypeJobFacet'),
          processingType: run.mode === 'streaming' ? 'STREAMING' : 'BATCH',
          integration: 'DATAKIT',
          jobType: 'TRANSFORM',
        },
      },
    },
    inputs: (run.io?.inputs ?? []).map(datasetOf),
    outputs: (run.io?.outputs ?? []).map(datasetOf),
  };
}
