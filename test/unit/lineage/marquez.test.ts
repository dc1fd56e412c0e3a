import { describe, expect, it } from 'vitest';
import {
  toMarquezColumnLineage,
  toMarquezDataset,
  toMarquezDatasetVersion,
  toMarquezJob,
  toMarquezLineage,
  toMarquezNamespace,
  toMarquezRun,
  toMarquezSearchResult,
  toMarquezSearchResults,
} from '../../../lib/domain/lineage/marquez.js';
import type {
  ColumnLineageRecord,
  DatasetRecord,
  JobRecord,
  RunRecord,
} from '../../../lib/domain/lineage/model.js';
import { datasetFieldNodeId, datasetNodeId, jobNodeId } from '../../../lib/domain/lineage/node-id.js';

// Fixtures modelled on Marquez's documented examples (openapi `example`s and its lineage node responses).

const dataset: DatasetRecord = {
  namespace: 'namespace',
  name: 'commonDataset',
  type: 'DB_TABLE',
  physicalName: 'commonDataset',
  sourceName: 'the source',
  createdAt: '2021-06-24T13:04:34.421Z',
  updatedAt: '2021-06-24T13:04:38.907Z',
  fields: [
    { name: 'firstname', type: 'STRING', tags: [], description: 'the first name' },
    { name: 'birthdate', type: 'DATE', tags: [] },
  ],
  tags: [],
  description: 'the dataset documentation',
  facets: { schema: { fields: [] } },
  currentVersion: 'b1d626a2-6d3a-475e-9ecf-943176d4a8c6',
};

const run: RunRecord = {
  runId: '870492da-ecfb-4be0-91b9-9a89ddd3db90',
  namespace: 'namespace',
  jobName: 'dag.writeJob',
  state: 'COMPLETED',
  createdAt: '2019-05-09T19:49:24.201Z',
  updatedAt: '2019-05-09T20:05:46.815Z',
  startedAt: '2019-05-09T19:50:00.000Z',
  endedAt: '2019-05-09T19:50:08.216Z',
  terminalEvent: 'COMPLETE',
  args: { email: 'me@example.com' },
  facets: {
    nominalTime: { nominalStartTime: '2019-05-09T19:00:00Z', nominalEndTime: '2019-05-09T20:00:00Z' },
  },
  facetTimes: {},
  jobVersion: '0ba5b13b-350e-40f3-ba3f-cc00a4e92d11',
  inputVersions: [],
  outputVersions: [
    {
      namespace: 'namespace',
      name: 'commonDataset',
      version: '16e04029-2035-37f1-8206-d57be374333f',
      facets: {},
    },
  ],
};

const job: JobRecord = {
  namespace: 'namespace',
  name: 'dag.writeJob',
  type: 'BATCH',
  createdAt: '2019-05-09T19:49:24.201Z',
  updatedAt: '2019-05-09T20:05:46.815Z',
  facets: {},
  parentJobName: 'dag',
  location: 'https://github.com/my-jobs/blob/124f6089',
  description: 'My first job!',
  io: { current: { inputs: [], outputs: [{ namespace: 'namespace', name: 'commonDataset' }] } },
};

describe('Marquez mappers', () => {
  it('maps a namespace with null for what it does not have', () => {
    expect(
      toMarquezNamespace({ name: 'my-namespace', createdAt: 'c', updatedAt: 'u', ownerName: 'me' }),
    ).toEqual({
      name: 'my-namespace',
      createdAt: 'c',
      updatedAt: 'u',
      ownerName: 'me',
      description: null,
      isHidden: false,
    });
  });

  it('maps a run with duration, nominal times, job version and dataset versions', () => {
    expect(toMarquezRun(run)).toEqual({
      id: '870492da-ecfb-4be0-91b9-9a89ddd3db90',
      createdAt: '2019-05-09T19:49:24.201Z',
      updatedAt: '2019-05-09T20:05:46.815Z',
      nominalStartTime: '2019-05-09T19:00:00Z',
      nominalEndTime: '2019-05-09T20:00:00Z',
      state: 'COMPLETED',
      startedAt: '2019-05-09T19:50:00.000Z',
      endedAt: '2019-05-09T19:50:08.216Z',
      durationMs: 8216,
      args: { email: 'me@example.com' },
      jobVersion: {
        namespace: 'namespace',
        name: 'dag.writeJob',
        version: '0ba5b13b-350e-40f3-ba3f-cc00a4e92d11',
      },
      inputDatasetVersions: [],
      outputDatasetVersions: [
        {
          datasetVersionId: {
            namespace: 'namespace',
            name: 'commonDataset',
            version: '16e04029-2035-37f1-8206-d57be374333f',
          },
          facets: {},
        },
      ],
      context: {},
      facets: run.facets,
    });
  });

  it('maps a running run with nulls for its end', () => {
    const { endedAt, terminalEvent, ...running } = run;

    expect(toMarquezRun({ ...running, state: 'RUNNING', facets: {} })).toMatchObject({
      state: 'RUNNING',
      endedAt: null,
      durationMs: null,
      nominalStartTime: null,
    });
  });

  it('maps a job with its current IO, simple name and latest run', () => {
    const mapped = toMarquezJob(job, run);

    expect(mapped).toMatchObject({
      id: { namespace: 'namespace', name: 'dag.writeJob' },
      type: 'BATCH',
      name: 'dag.writeJob',
      simpleName: 'writeJob',
      parentJobName: 'dag',
      namespace: 'namespace',
      inputs: [],
      outputs: [{ namespace: 'namespace', name: 'commonDataset' }],
      location: 'https://github.com/my-jobs/blob/124f6089',
      description: 'My first job!',
      latestRun: { id: run.runId, state: 'COMPLETED' },
      facets: {},
      currentVersion: null,
    });
    expect(mapped.latestRuns).toHaveLength(1);
  });

  it('maps a dataset like Marquez’s lineage node data', () => {
    expect(toMarquezDataset(dataset)).toEqual({
      id: { namespace: 'namespace', name: 'commonDataset' },
      type: 'DB_TABLE',
      name: 'commonDataset',
      physicalName: 'commonDataset',
      createdAt: '2021-06-24T13:04:34.421Z',
      updatedAt: '2021-06-24T13:04:38.907Z',
      namespace: 'namespace',
      sourceName: 'the source',
      fields: [
        { name: 'firstname', type: 'STRING', tags: [], description: 'the first name' },
        { name: 'birthdate', type: 'DATE', tags: [], description: null },
      ],
      tags: [],
      lastModifiedAt: null,
      lastLifecycleState: null,
      description: 'the dataset documentation',
      facets: { schema: { fields: [] } },
      currentVersion: 'b1d626a2-6d3a-475e-9ecf-943176d4a8c6',
      columnLineage: null,
      deleted: false,
    });
  });

  it('maps a dataset version with the run that created it', () => {
    const version = toMarquezDatasetVersion(
      {
        namespace: 'namespace',
        name: 'commonDataset',
        version: 'v1',
        createdAt: 'c',
        fields: [],
        facets: {},
      },
      dataset,
      run,
    );

    expect(version).toMatchObject({
      id: { namespace: 'namespace', name: 'commonDataset', version: 'v1' },
      type: 'DB_TABLE',
      version: 'v1',
      sourceName: 'the source',
      createdByRun: { id: run.runId },
    });
  });

  it('maps a lineage graph, with placeholder data for a node whose record is not visible yet', () => {
    const jobId = jobNodeId('namespace', 'writeJob');
    const dsId = datasetNodeId('namespace', 'commonDataset');
    const orphan = datasetNodeId('postgres://db:5432', 'public.other');
    const edge = { origin: jobId, destination: dsId };
    const { parentJobName, ...withoutParent } = job;
    const rootJob: JobRecord = { ...withoutParent, name: 'writeJob' };

    const lineage = toMarquezLineage(
      {
        nodes: [
          { id: dsId, type: 'DATASET', inEdges: [edge], outEdges: [] },
          { id: jobId, type: 'JOB', inEdges: [], outEdges: [edge] },
          { id: orphan, type: 'DATASET', inEdges: [], outEdges: [] },
        ],
      },
      {
        jobs: new Map([[jobId, { job: rootJob }]]),
        datasets: new Map([[dsId, dataset]]),
      },
    );

    expect(lineage.graph.map((n) => [n.id, n.type])).toEqual([
      ['dataset:namespace:commonDataset', 'DATASET'],
      ['job:namespace:writeJob', 'JOB'],
      ['dataset:postgres://db:5432:public.other', 'DATASET'],
    ]);
    expect(lineage.graph[0]).toMatchObject({
      data: { name: 'commonDataset', sourceName: 'the source' },
      inEdges: [edge],
    });
    expect(lineage.graph[1]).toMatchObject({ data: { name: 'writeJob', latestRun: null }, outEdges: [edge] });
    expect(lineage.graph[2]?.data).toMatchObject({
      namespace: 'postgres://db:5432',
      name: 'public.other',
      fields: [],
    });
  });

  it('maps column lineage nodes like Marquez’s DATASET_FIELD nodes', () => {
    const columnA = datasetFieldNodeId('namespace', 'commonDataset', 'columnA');
    const columnB = datasetFieldNodeId('namespace', 'otherDataset', 'columnB');
    const record: ColumnLineageRecord = {
      namespace: 'namespace',
      dataset: 'commonDataset',
      field: 'columnA',
      fieldType: 'integer',
      transformationDescription: 'identical',
      transformationType: 'IDENTITY',
      inputFields: [{ namespace: 'namespace', dataset: 'otherDataset', field: 'columnB' }],
      updatedAt: 'u',
    };
    const edge = { origin: columnB, destination: columnA };

    const graph = toMarquezColumnLineage(
      {
        nodes: [
          { id: columnA, type: 'DATASET_FIELD', inEdges: [edge], outEdges: [] },
          { id: columnB, type: 'DATASET_FIELD', inEdges: [], outEdges: [edge] },
        ],
      },
      new Map([[columnA, record]]),
    );

    expect(graph.graph).toEqual([
      {
        id: 'datasetField:namespace:commonDataset:columnA',
        type: 'DATASET_FIELD',
        data: {
          namespace: 'namespace',
          dataset: 'commonDataset',
          field: 'columnA',
          fieldType: 'integer',
          transformationDescription: 'identical',
          transformationType: 'IDENTITY',
          inputFields: [
            {
              namespace: 'namespace',
              dataset: 'otherDataset',
              field: 'columnB',
              transformationDescription: null,
              transformationType: null,
            },
          ],
        },
        inEdges: [
          {
            origin: 'datasetField:namespace:otherDataset:columnB',
            destination: 'datasetField:namespace:commonDataset:columnA',
          },
        ],
        outEdges: [],
      },
      {
        id: 'datasetField:namespace:otherDataset:columnB',
        type: 'DATASET_FIELD',
        data: {
          namespace: 'namespace',
          dataset: 'otherDataset',
          field: 'columnB',
          fieldType: null,
          transformationDescription: null,
          transformationType: null,
          inputFields: [],
        },
        inEdges: [],
        outEdges: [edge],
      },
    ]);
  });

  it('maps search hits to results with node ids', () => {
    const results = toMarquezSearchResults([
      toMarquezSearchResult({ kind: 'dataset', dataset }),
      toMarquezSearchResult({ kind: 'job', job }),
    ]);

    expect(results).toEqual({
      totalCount: 2,
      results: [
        {
          type: 'DATASET',
          name: 'commonDataset',
          updatedAt: dataset.updatedAt,
          namespace: 'namespace',
          nodeId: 'dataset:namespace:commonDataset',
        },
        {
          type: 'JOB',
          name: 'dag.writeJob',
          updatedAt: job.updatedAt,
          namespace: 'namespace',
          nodeId: 'job:namespace:dag.writeJob',
        },
      ],
    });
  });
});
