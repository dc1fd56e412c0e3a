import { describe, expect, it } from 'vitest';
import type { EventType } from '../../../lib/contracts/openlineage/events.js';
import { applyJobIo, type JobIoEvent } from '../../../lib/domain/lineage/job-io.js';
import type { DatasetRef, JobIoState } from '../../../lib/domain/lineage/model.js';

const job = { namespace: 'airflow', name: 'etl.orders' };
const raw = { namespace: 's3://lake', name: 'raw/orders' };
const customers = { namespace: 'postgres://db:5432', name: 'crm.public.customers' };
const mart = { namespace: 'postgres://db:5432', name: 'mart.public.orders' };
const at = (minute: number) => new Date(Date.UTC(2024, 4, 1, 10, minute)).toISOString();

function event(
  runId: string,
  firstMinute: number,
  eventType: EventType | undefined,
  inputs: DatasetRef[],
  outputs: DatasetRef[],
): JobIoEvent {
  const base: JobIoEvent = { run: { runId, firstEventAt: at(firstMinute) }, inputs, outputs };
  return eventType === undefined ? base : { ...base, eventType };
}

function fold(events: JobIoEvent[]): JobIoState | undefined {
  return events.reduce<JobIoState | undefined>((state, e) => applyJobIo(state, job, e).state, undefined);
}

describe('applyJobIo', () => {
  it('adds producer and consumer edges as soon as a run reports its IO', () => {
    const change = applyJobIo(undefined, job, event('r1', 0, 'START', [raw], [mart]));

    expect(change.added).toEqual([
      { origin: 'dataset:s3://lake:raw/orders', destination: 'job:airflow:etl.orders' },
      { origin: 'job:airflow:etl.orders', destination: 'dataset:postgres://db:5432:mart.public.orders' },
    ]);
    expect(change.removed).toEqual([]);
  });

  it('drops the edge to a dataset the job stopped reading when its next run ends', () => {
    const afterRun1 = fold([
      event('r1', 0, 'START', [raw, customers], [mart]),
      event('r1', 0, 'COMPLETE', [raw, customers], [mart]),
    ]);
    const run2Started = applyJobIo(afterRun1, job, event('r2', 30, 'START', [raw], [mart]));
    const run2Completed = applyJobIo(run2Started.state, job, event('r2', 30, 'COMPLETE', [raw], [mart]));

    expect(run2Started.removed).toEqual([]);
    expect(run2Completed.removed).toEqual([
      { origin: 'dataset:postgres://db:5432:crm.public.customers', destination: 'job:airflow:etl.orders' },
    ]);
    expect(run2Completed.state.current).toEqual({ inputs: [raw], outputs: [mart] });
  });

  it('keeps IO reported by earlier events of the same run (a COMPLETE without inputs)', () => {
    const state = fold([event('r1', 0, 'START', [raw], []), event('r1', 0, 'COMPLETE', [], [mart])]);

    expect(state?.current).toEqual({ inputs: [raw], outputs: [mart] });
  });

  it('accumulates the IO of a streaming run that never ends', () => {
    const state = fold([
      event('s1', 0, 'START', [raw], []),
      event('s1', 0, 'RUNNING', [customers], [mart]),
      event('s1', 0, 'RUNNING', [], [mart]),
    ]);

    expect(state?.current).toEqual({ inputs: [customers, raw], outputs: [mart] });
  });

  it('ignores late events of a run older than the latest', () => {
    const state = fold([event('r2', 30, 'START', [raw], [mart])]);

    const change = applyJobIo(state, job, event('r1', 0, 'COMPLETE', [customers], [mart]));

    expect(change).toEqual({ state, added: [], removed: [] });
  });

  it('lets a late event of a finished latest run add IO it reported late', () => {
    const done = fold([event('r1', 0, 'COMPLETE', [raw], [mart])]);

    const change = applyJobIo(done, job, event('r1', 0, 'OTHER', [customers], []));

    expect(change.added).toEqual([
      { origin: 'dataset:postgres://db:5432:crm.public.customers', destination: 'job:airflow:etl.orders' },
    ]);
  });

  it('adds the IO a JobEvent declares without removing any', () => {
    const state = fold([event('r1', 0, 'COMPLETE', [raw], [mart])]);

    const change = applyJobIo(state, job, { inputs: [customers], outputs: [] });

    expect(change.removed).toEqual([]);
    expect(change.state.current.inputs).toEqual([customers, raw]);
  });
});
