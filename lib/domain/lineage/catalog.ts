import type {
  CountedPage,
  LineageReader,
  OffsetPaging,
  StoredDataset,
  StoredJob,
} from '../../ports/lineage-store.js';
import { NotFoundError } from '../errors.js';
import {
  type MarquezDataset,
  type MarquezDatasetVersion,
  type MarquezJob,
  type MarquezRun,
  toMarquezDataset,
  toMarquezDatasetVersion,
  toMarquezJob,
  toMarquezRun,
} from './marquez.js';
import type { ColumnLineageRecord, RunRecord, RunStateName, TagRecord } from './model.js';
import {
  type DatasetFieldNodeId,
  type DatasetNodeId,
  datasetFieldNodeId,
  datasetNodeId,
  type JobNodeId,
  jobNodeId,
} from './node-id.js';
import {
  type IntervalMetric,
  intervalMetrics,
  type LineageMetric,
  lineageMetrics,
  type StatsPeriod,
  statsBucket,
  statsIntervals,
} from './stats.js';

/** The deepest offset a list reads to (lists read `offset + limit` keys). */
export const MAX_LIST_OFFSET = 10_000;

/** Jobs examined at most to find those whose latest run is in a state (`lastRunStates`). */
const maxJobsFiltered = MAX_LIST_OFFSET;

/** A job's state for `lastRunStates`: its latest run's; a job without runs matches every filter, as in Marquez. */
function latestState(job: StoredJob): RunStateName | undefined {
  return job.latestRun?.state;
}

/** Marquez's `{runId, facets}` of `GET /jobs/runs/{id}/facets`. */
export interface MarquezFacets {
  runId: string;
  facets: Record<string, unknown>;
}

/** Marquez's `Tag`. */
export interface MarquezTag {
  name: string;
  description: string | null;
}

/** Marquez's `{events, totalCount}` of `GET /events/lineage`. */
export interface MarquezEvents {
  events: unknown[];
  totalCount: number;
  nextCursor?: string;
}

/** Which statistics `GET /stats/{series}` answers. */
export type StatsSubject = 'lineage-events' | 'jobs' | 'datasets' | 'sources';

function isRunEvent(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'run' in value && 'job' in value;
}

/**
 * The Marquez reads of jobs, runs, datasets, their versions, tags, raw events and statistics — each shaped
 * as Marquez answers it, with what its web UI reads (a job's latest runs and tags, a dataset's column
 * lineage, versions with the run that wrote them, the true `totalCount` of every list).
 */
export function makeLineageCatalog(deps: { store: LineageReader; clock: () => Date }) {
  const { store } = deps;

  /** Jobs as Marquez shows them: their latest runs fetched together (one BatchGet for the page). */
  async function toJobs(stored: readonly StoredJob[]): Promise<MarquezJob[]> {
    const runIds = stored.flatMap(({ job }) => (job.recentRuns ?? []).map((run) => run.runId));
    const runs = await store.getRuns(runIds);
    return stored.map(({ job, latestRun, userTags }) => {
      // The embedded latest run is the freshest copy of it (written with the job).
      const recent = (job.recentRuns ?? []).flatMap(({ runId }) => {
        const run = runId === latestRun?.runId ? latestRun : runs.get(runId);
        return run === undefined ? [] : [run];
      });
      const latestRuns = recent.length === 0 && latestRun !== undefined ? [latestRun] : recent;
      return toMarquezJob(job, latestRun, { latestRuns, userTags });
    });
  }

  /** Datasets as Marquez shows them: their fields' column lineage fetched together. */
  async function toDatasets(stored: readonly StoredDataset[]): Promise<MarquezDataset[]> {
    const fieldIds: DatasetFieldNodeId[] = stored.flatMap(({ dataset, lineageFields }) =>
      [...lineageFields].map((field) => datasetFieldNodeId(dataset.namespace, dataset.name, field)),
    );
    const { fields } = await store.graph().records(fieldIds);
    return stored.map(({ dataset, lineageFields, userTags, userFieldTags }) => {
      const columnLineage: ColumnLineageRecord[] = [...lineageFields].flatMap((field) => {
        const record = fields.get(datasetFieldNodeId(dataset.namespace, dataset.name, field))?.record;
        return record === undefined ? [] : [record];
      });
      return toMarquezDataset(dataset, { userTags, userFieldTags, columnLineage });
    });
  }

  async function storedJob(id: JobNodeId): Promise<StoredJob> {
    const stored = await store.getJob(id);
    if (stored === undefined) throw new NotFoundError('JOB_NOT_FOUND', `No job ${id.slice('job:'.length)}.`);
    return stored;
  }

  async function storedDataset(namespace: string, name: string): Promise<StoredDataset> {
    const stored = await store.getDataset(datasetNodeId(namespace, name));
    if (stored === undefined)
      throw new NotFoundError('DATASET_NOT_FOUND', `No dataset ${namespace}:${name}.`);
    return stored;
  }

  async function storedRun(runId: string): Promise<RunRecord> {
    const run = await store.getRun(runId);
    if (run === undefined) throw new NotFoundError('RUN_NOT_FOUND', `No run ${runId}.`);
    return run;
  }

  /**
   * A page of jobs whose latest run is in one of `states` (or that have no run): the list is read in
   * order and filtered, at most `maxJobsFiltered` jobs deep. `totalCount` counts every job, as Marquez's.
   */
  async function filteredJobs(
    list: (paging: OffsetPaging) => Promise<CountedPage<StoredJob>>,
    paging: OffsetPaging,
    states: readonly RunStateName[],
  ): Promise<CountedPage<StoredJob>> {
    const wanted = new Set(states);
    const matching: StoredJob[] = [];
    let totalCount = 0;
    const chunk = 100;
    for (let offset = 0; offset < maxJobsFiltered; offset += chunk) {
      const page = await list({ offset, limit: chunk });
      totalCount = page.totalCount;
      for (const job of page.items) {
        const state = latestState(job);
        if (state === undefined || wanted.has(state)) matching.push(job);
      }
      if (page.items.length < chunk || matching.length >= paging.offset + paging.limit) break;
    }
    return { items: matching.slice(paging.offset, paging.offset + paging.limit), totalCount };
  }

  return {
    /** `GET /namespaces/{ns}/jobs` (or every namespace's, `GET /jobs`), optionally by latest run state. */
    async jobs(
      namespace: string | undefined,
      paging: OffsetPaging,
      lastRunStates: readonly RunStateName[] = [],
    ): Promise<{ jobs: MarquezJob[]; totalCount: number }> {
      const list = (page: OffsetPaging) =>
        namespace === undefined ? store.listAllJobs(page) : store.listJobs(namespace, page);
      const page =
        lastRunStates.length === 0 ? await list(paging) : await filteredJobs(list, paging, lastRunStates);
      return { jobs: await toJobs(page.items), totalCount: page.totalCount };
    },

    /** `GET /namespaces/{ns}/jobs/{job}`: with its 10 latest runs and its tags. */
    async job(namespace: string, name: string): Promise<MarquezJob> {
      const [job] = await toJobs([await storedJob(jobNodeId(namespace, name))]);
      if (job === undefined) throw new NotFoundError('JOB_NOT_FOUND', `No job ${namespace}:${name}.`);
      return job;
    },

    /** `GET /namespaces/{ns}/jobs/{job}/runs`: newest first, with how many runs the job has. */
    async runs(
      namespace: string,
      name: string,
      paging: OffsetPaging,
    ): Promise<{ runs: MarquezRun[]; totalCount: number }> {
      const id = jobNodeId(namespace, name);
      const [job, runs] = await Promise.all([storedJob(id), store.listRuns(id, paging)]);
      return {
        runs: runs.map(toMarquezRun),
        totalCount: Math.max(job.runCount, paging.offset + runs.length),
      };
    },

    /** `GET /jobs/runs/{id}`. */
    async run(runId: string): Promise<MarquezRun> {
      return toMarquezRun(await storedRun(runId));
    },

    /** `GET /jobs/runs/{id}/facets?type=run|job`: the run's facets, or its job's as the run's events sent them. */
    async runFacets(runId: string, type: 'run' | 'job'): Promise<MarquezFacets> {
      const run = await storedRun(runId);
      return { runId: run.runId, facets: type === 'run' ? run.facets : (run.jobFacets ?? {}) };
    },

    /** `GET /namespaces/{ns}/datasets`: with each dataset's column lineage. */
    async datasets(
      namespace: string,
      paging: OffsetPaging,
    ): Promise<{ datasets: MarquezDataset[]; totalCount: number }> {
      const page = await store.listDatasets(namespace, paging);
      return { datasets: await toDatasets(page.items), totalCount: page.totalCount };
    },

    /** `GET /namespaces/{ns}/datasets/{ds}`: with its column lineage. */
    async dataset(namespace: string, name: string): Promise<MarquezDataset> {
      const [dataset] = await toDatasets([await storedDataset(namespace, name)]);
      if (dataset === undefined)
        throw new NotFoundError('DATASET_NOT_FOUND', `No dataset ${namespace}:${name}.`);
      return dataset;
    },

    /**
     * `GET /namespaces/{ns}/datasets/{ds}/versions`: newest first, each with the run that wrote it. A
     * version names its run before the run is stored (ADR 0005, "Write order"): until the run is there,
     * the version is not shown.
     */
    async datasetVersions(
      namespace: string,
      name: string,
      paging: OffsetPaging,
    ): Promise<{ versions: MarquezDatasetVersion[]; totalCount: number }> {
      const id: DatasetNodeId = datasetNodeId(namespace, name);
      const [stored, page] = await Promise.all([
        storedDataset(namespace, name),
        store.listDatasetVersions(id, paging),
      ]);
      const runs = await store.getRuns(
        page.items.flatMap((version) =>
          version.createdByRunId === undefined ? [] : [version.createdByRunId],
        ),
      );
      const versions = page.items.flatMap((version) => {
        if (version.createdByRunId === undefined)
          return [toMarquezDatasetVersion(version, stored.dataset, undefined, stored)];
        const run = runs.get(version.createdByRunId);
        return run === undefined ? [] : [toMarquezDatasetVersion(version, stored.dataset, run, stored)];
      });
      return { versions, totalCount: page.totalCount };
    },

    /** `GET /namespaces/{ns}/datasets/{ds}/versions/{version}`. */
    async datasetVersion(namespace: string, name: string, version: string): Promise<MarquezDatasetVersion> {
      const stored = await storedDataset(namespace, name);
      const record = await store.getDatasetVersion(datasetNodeId(namespace, name), version);
      const run =
        record?.createdByRunId === undefined ? undefined : await store.getRun(record.createdByRunId);
      if (record === undefined || (record.createdByRunId !== undefined && run === undefined)) {
        throw new NotFoundError(
          'DATASET_VERSION_NOT_FOUND',
          `No version ${version} of ${namespace}:${name}.`,
        );
      }
      return toMarquezDatasetVersion(record, stored.dataset, run, stored);
    },

    /** `GET /tags`. */
    async tags(paging: OffsetPaging): Promise<{ tags: MarquezTag[] }> {
      const tags: TagRecord[] = await store.listTags(paging);
      return { tags: tags.map((tag) => ({ name: tag.name, description: tag.description ?? null })) };
    },

    /**
     * `GET /events/lineage`: RunEvents (as Marquez lists them) by eventTime within `[after, before]`, a page
     * by `offset` (or the `cursor` of the previous page), with how many the range holds.
     */
    async events(query: {
      after: string;
      before: string;
      ascending: boolean;
      limit: number;
      offset: number;
      cursor?: string;
    }): Promise<MarquezEvents> {
      const [page, totalCount] = await Promise.all([
        store.listRawEvents(query),
        store.countRawEvents(query.after, query.before),
      ]);
      // Stores written before DatasetEvents and JobEvents were kept apart may still list them here.
      const events = page.events.filter(isRunEvent);
      return page.nextCursor === undefined
        ? { events, totalCount }
        : { events, totalCount, nextCursor: page.nextCursor };
    },

    /**
     * `GET /stats/{subject}?period=DAY|WEEK&timezone=`: RunEvents by type, or how many jobs, datasets and
     * sources existed, for each hour of the last day or each day (in `timezone`) of the last week.
     */
    async stats(
      subject: StatsSubject,
      period: StatsPeriod,
      timeZone: string,
    ): Promise<LineageMetric[] | IntervalMetric[]> {
      const intervals = statsIntervals(deps.clock(), period, timeZone);
      const first = intervals[0];
      const last = intervals[intervals.length - 1];
      if (first === undefined || last === undefined) return [];
      if (subject === 'lineage-events') {
        const buckets = await store.statsBuckets(
          'EVENTS',
          first.start,
          statsBucket(Date.parse(last.end) - 1),
        );
        return lineageMetrics(intervals, buckets);
      }
      const series = subject === 'jobs' ? 'JOBS' : subject === 'datasets' ? 'DATASETS' : 'SOURCES';
      const [created, totals] = await Promise.all([
        store.statsBuckets(series, first.start, '~'),
        store.statsTotals(),
      ]);
      return intervalMetrics(intervals, created, totals[subject]);
    },
  };
}

/** The catalog use cases, for handlers and tests. */
export type LineageCatalog = ReturnType<typeof makeLineageCatalog>;
