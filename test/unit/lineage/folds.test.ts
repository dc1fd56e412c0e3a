import { describe, expect, it } from 'vitest';
import { parseLineageEvent } from '../../../lib/contracts/openlineage/parse.js';
import {
  foldDataset,
  foldJob,
  foldRun,
  jobVersionOf,
  withJobVersion,
} from '../../../lib/domain/lineage/folds.js';
import type { JobRecord, RunRecord } from '../../../lib/domain/lineage/model.js';
import { datasetTagsOf, jobTagsOf, tagName } from '../../../lib/domain/lineage/tags.js';

function event(raw: Record<string, unknown>) {
  const parsed = parseLineageEvent(raw);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.event;
}

const ns = 'food_delivery';
const at = (minute: number) => new Date(Date.UTC(2024, 4, 1, 10, minute)).toISOString();
const runId = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

function runEvent(n: number, minute: number, extra: Record<string, unknown> = {}) {
  return event({
    eventType: 'START',
    eventTime: at(minute),
    run: { runId: runId(n) },
    job: { namespace: ns, name: 'etl' },
    ...extra,
  });
}

/** Folds events into a run and its job, the way ingestion does (the job owns the run). */
function foldAll(events: ReturnType<typeof event>[]): { job: JobRecord; runs: Map<string, RunRecord> } {
  const runs = new Map<string, RunRecord>();
  let job: JobRecord | undefined;
  for (const e of events) {
    const id = e.run?.runId ?? '';
    const run = foldRun(runs.get(id), e, () => 'v0');
    if (run === undefined) continue;
    const change = foldJob(job, e, run);
    job = change.job;
    runs.set(id, withJobVersion(run, job));
  }
  if (job === undefined) throw new Error('no job');
  return { job, runs };
}

describe('jobVersionOf (Marquez’s Utils.newJobVersionFor)', () => {
  // Expected values computed with Java 17 from Marquez's formula:
  // UUID.nameUUIDFromBytes(String.join(":", namespace, name, sorted inputs, sorted outputs[, location])).
  it('names a version by the job, its sorted inputs and outputs, and its location', () => {
    const ref = (name: string) => ({ namespace: ns, name });
    const version = jobVersionOf(
      {
        namespace: ns,
        name: 'etl_orders_7_days',
        location: 'https://github.com/example/etl_orders_7_days.py',
      },
      [ref('public.orders'), ref('public.menu_items'), ref('public.categories'), ref('public.menus')],
      [ref('public.orders_7_days')],
    );

    expect(version).toBe('b31f3e94-53bc-36ab-86a9-aec247182a6f');
  });

  it('leaves out a location the job does not have', () => {
    const version = jobVersionOf(
      { namespace: 'stream-ns', name: 'clicks' },
      [{ namespace: 'kafka://b:9092', name: 'clicks' }],
      [{ namespace: 's3://lake', name: 'clicks_agg' }],
    );

    expect(version).toBe('4de4224d-40fd-3b30-afff-1762f193101d');
  });
});

describe('job versions, as Marquez sets them', () => {
  const io = {
    inputs: [{ namespace: ns, name: 'public.orders' }],
    outputs: [{ namespace: ns, name: 'public.orders_7_days' }],
  };

  it('are set once a batch run ends: on the run and as the job’s currentVersion', () => {
    const started = foldAll([runEvent(1, 0, io)]);
    expect(started.runs.get(runId(1))?.jobVersion).toBeUndefined();
    expect(started.job.currentVersion).toBeUndefined();

    const ended = foldAll([runEvent(1, 0, io), runEvent(1, 5, { eventType: 'COMPLETE' })]);
    const version = jobVersionOf({ namespace: ns, name: 'etl' }, io.inputs, io.outputs);
    expect(ended.runs.get(runId(1))?.jobVersion).toBe(version);
    expect(ended.job.currentVersion).toBe(version);
  });

  it('are the same whatever order the run’s events arrive in', () => {
    const inOrder = foldAll([runEvent(1, 0, io), runEvent(1, 5, { eventType: 'FAIL' })]);
    const reversed = foldAll([runEvent(1, 5, { eventType: 'FAIL' }), runEvent(1, 0, io)]);

    expect(reversed.job.currentVersion).toBe(inOrder.job.currentVersion);
    expect(reversed.runs.get(runId(1))?.jobVersion).toBe(inOrder.runs.get(runId(1))?.jobVersion);
  });

  it('are set at every event of a streaming job’s run, which may never end', () => {
    const streaming = {
      ...io,
      job: {
        namespace: ns,
        name: 'etl',
        facets: { jobType: { processingType: 'STREAMING', integration: 'FLINK', jobType: 'JOB' } },
      },
    };
    const { job, runs } = foldAll([runEvent(1, 0, { ...streaming, eventType: 'RUNNING' })]);

    expect(job.type).toBe('STREAM');
    expect(runs.get(runId(1))?.jobVersion).toBe(
      jobVersionOf({ namespace: ns, name: 'etl' }, io.inputs, io.outputs),
    );
    expect(job.currentVersion).toBe(runs.get(runId(1))?.jobVersion);
  });
});

describe('a job’s recent runs', () => {
  it('keeps its 10 newest runs, newest first, whatever order the runs arrive in', () => {
    const events = Array.from({ length: 12 }, (_, n) => runEvent(n + 1, n));
    const forward = foldAll(events).job.recentRuns;
    const backward = foldAll([...events].reverse()).job.recentRuns;

    expect(forward?.map((run) => run.runId)).toEqual(Array.from({ length: 10 }, (_, n) => runId(12 - n)));
    expect(backward).toEqual(forward);
  });
});

describe('run facets', () => {
  it('keep the job’s facets as the run’s events sent them', () => {
    const sql = { query: 'SELECT 1' };
    const run = foldRun(
      undefined,
      runEvent(1, 0, { job: { namespace: ns, name: 'etl', facets: { sql } } }),
      () => 'v',
    );

    expect(run?.jobFacets).toEqual({ sql });
  });
});

describe('dataset facets and tags', () => {
  it('take the input facets of a run reading the dataset (data quality metrics), as Marquez shows them', () => {
    const metrics = { rowCount: 42, columnMetrics: { id: { nullCount: 0 } } };
    const e = runEvent(1, 0, {
      inputs: [{ namespace: ns, name: 'public.orders', inputFacets: { dataQualityMetrics: metrics } }],
    });
    const input = e.inputs[0];
    if (input === undefined) throw new Error('no input');

    expect(foldDataset(undefined, input, e).facets).toMatchObject({ dataQualityMetrics: metrics });
  });

  it('read tags from the tags facet (dataset and fields) and from schema fields', () => {
    const e = event({
      eventTime: at(0),
      schemaURL: 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent',
      dataset: {
        namespace: ns,
        name: 'public.customers',
        facets: {
          schema: {
            fields: [
              { name: 'email', type: 'VARCHAR', tags: ['contact'] },
              { name: 'id', type: 'INTEGER' },
            ],
          },
          tags: {
            tags: [
              { key: 'classification', value: 'confidential', source: 'CONFIG' },
              { key: 'pii', value: 'true', field: 'email' },
              { key: 'owner', value: '' },
            ],
          },
        },
      },
    });
    const dataset = e.dataset;
    if (dataset === undefined) throw new Error('no dataset');

    const folded = foldDataset(undefined, dataset, e);

    expect(folded.tags).toEqual(['classification:confidential', 'owner']);
    expect(folded.fields).toEqual([
      { name: 'email', type: 'VARCHAR', tags: ['contact', 'pii'] },
      { name: 'id', type: 'INTEGER', tags: [] },
    ]);
  });

  it('follow the newest tags facet: a later event without the tag drops it', () => {
    const first = event({
      eventTime: at(0),
      dataset: { namespace: ns, name: 't', facets: { tags: { tags: [{ key: 'gold' }] } } },
    });
    const second = event({
      eventTime: at(5),
      dataset: { namespace: ns, name: 't', facets: { tags: { tags: [{ key: 'silver' }] } } },
    });
    if (first.dataset === undefined || second.dataset === undefined) throw new Error('no dataset');

    const folded = foldDataset(foldDataset(undefined, first.dataset, first), second.dataset, second);

    expect(folded.tags).toEqual(['silver']);
  });
});

describe('tag names', () => {
  it.each([
    [{ key: 'pii' }, 'pii'],
    [{ key: 'pii', value: true }, 'pii'],
    [{ key: 'pii', value: 'TRUE' }, 'pii'],
    [{ key: 'classification', value: 'confidential' }, 'classification:confidential'],
    [{ key: 'tier', value: 1 }, 'tier:1'],
  ])('names %j %s', (entry, name) => {
    expect(tagName(entry)).toBe(name);
  });

  it('ignore a tags facet that is malformed or deleted', () => {
    expect(datasetTagsOf({ tags: { tags: 'gold' } }).dataset).toEqual([]);
    expect(jobTagsOf({ tags: { _deleted: true, tags: [{ key: 'gold' }] } })).toEqual([]);
  });
});
