import type { EventType } from '../../contracts/openlineage/events.js';
import type { Edge } from './graph.js';
import type { DatasetRef, JobIoState } from './model.js';
import { type DatasetNodeId, datasetNodeId, jobNodeId } from './node-id.js';

/** What `applyJobIo` needs of an event. */
export interface JobIoEvent {
  /**
   * The event's run: its id and its earliest eventTime (`RunState.createdAt` after this event), which orders
   * runs. Absent for a JobEvent, whose declared IO is added to the job's edges.
   */
  run?: { runId: string; firstEventAt: string };
  eventType?: EventType;
  inputs: readonly DatasetRef[];
  outputs: readonly DatasetRef[];
}

/** The new IO state and the producer/consumer edges to write and to delete. */
export interface JobIoChange {
  state: JobIoState;
  added: Edge[];
  removed: Edge[];
}

type Io = JobIoState['current'];
type LatestRun = NonNullable<JobIoState['latestRun']>;

/** A job with no IO yet. */
export const EMPTY_JOB_IO: JobIoState = { current: { inputs: [], outputs: [] } };

function refKey(ref: DatasetRef): DatasetNodeId {
  return datasetNodeId(ref.namespace, ref.name);
}

function union(a: readonly DatasetRef[], b: readonly DatasetRef[]): DatasetRef[] {
  const byKey = new Map<DatasetNodeId, DatasetRef>();
  for (const ref of [...a, ...b]) {
    if (!byKey.has(refKey(ref))) byKey.set(refKey(ref), { namespace: ref.namespace, name: ref.name });
  }
  return [...byKey.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([, ref]) => ref);
}

/** The producer/consumer edges of a job's IO: dataset → job for inputs, job → dataset for outputs. */
export function jobIoEdges(job: DatasetRef, io: Io): Edge[] {
  const jobId = jobNodeId(job.namespace, job.name);
  return [
    ...io.inputs.map((input) => ({ origin: refKey(input), destination: jobId })),
    ...io.outputs.map((output) => ({ origin: jobId, destination: refKey(output) })),
  ];
}

function diff(job: DatasetRef, before: Io, after: Io): { added: Edge[]; removed: Edge[] } {
  const edgeKey = (edge: Edge) => `${edge.origin}\u0000${edge.destination}`;
  const old = new Map(jobIoEdges(job, before).map((edge) => [edgeKey(edge), edge]));
  const now = new Map(jobIoEdges(job, after).map((edge) => [edgeKey(edge), edge]));
  return {
    added: [...now].filter(([k]) => !old.has(k)).map(([, edge]) => edge),
    removed: [...old].filter(([k]) => !now.has(k)).map(([, edge]) => edge),
  };
}

function isTerminal(eventType: EventType | undefined): boolean {
  return eventType === 'COMPLETE' || eventType === 'FAIL' || eventType === 'ABORT';
}

function isNewerRun(runId: string, firstEventAt: string, latest: LatestRun): boolean {
  if (firstEventAt !== latest.firstEventAt) return firstEventAt > latest.firstEventAt;
  return runId > latest.runId;
}

/**
 * Folds an event into a job's IO. The job's edges are those of its latest run: while a run is going its IO
 * accumulates onto the current edges (a streaming job's IO grows as it reports it), and when it ends
 * (COMPLETE/FAIL/ABORT) the edges become exactly the union of that run's events, so a dataset the job
 * stopped reading loses its edge then. Events of runs older than the latest change nothing.
 */
export function applyJobIo(state: JobIoState | undefined, job: DatasetRef, event: JobIoEvent): JobIoChange {
  const before = state ?? EMPTY_JOB_IO;
  const eventIo: Io = { inputs: union([], event.inputs), outputs: union([], event.outputs) };
  const next: JobIoState = { ...before };

  if (event.run === undefined) {
    next.current = {
      inputs: union(before.current.inputs, eventIo.inputs),
      outputs: union(before.current.outputs, eventIo.outputs),
    };
  } else {
    const { runId, firstEventAt } = event.run;
    const latest = before.latestRun;
    const sameRun = latest?.runId === runId;
    if (latest !== undefined && !sameRun && !isNewerRun(runId, firstEventAt, latest)) {
      return { state: before, added: [], removed: [] };
    }
    const base: LatestRun =
      latest !== undefined && sameRun
        ? latest
        : { runId, firstEventAt, terminated: false, inputs: [], outputs: [] };
    const run: LatestRun = {
      runId: base.runId,
      firstEventAt:
        firstEventAt !== '' && firstEventAt < base.firstEventAt ? firstEventAt : base.firstEventAt,
      terminated: base.terminated || isTerminal(event.eventType),
      inputs: union(base.inputs, eventIo.inputs),
      outputs: union(base.outputs, eventIo.outputs),
    };
    next.latestRun = run;
    next.current = run.terminated
      ? { inputs: run.inputs, outputs: run.outputs }
      : {
          inputs: union(before.current.inputs, eventIo.inputs),
          outputs: union(before.current.outputs, eventIo.outputs),
        };
  }
  return { state: next, ...diff(job, before.current, next.current) };
}
