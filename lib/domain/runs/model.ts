import type { Run, RunStatus, RunTrigger } from '../../contracts/api/runs.js';

/** A DataSet a run reads or writes, as Prepare resolved it (so every later step names the same datasets). */
export interface RunDataSetIo {
  /** The DataKit identity. */
  readonly namespace: string;
  readonly name: string;
  /** The cell whose Store holds it. */
  readonly cell: string;
  /** Its OpenLineage identity (naming conventions from the Store's connection). */
  readonly lineage: { readonly namespace: string; readonly name: string };
  readonly schema?: readonly { readonly name: string; readonly type: string }[] | undefined;
}

/** A run as stored: what the API shows plus what the steps need, with its optimistic-locking revision. */
export interface RunRecord extends Run {
  /** The DataSets as Prepare resolved them. */
  readonly io?:
    | { readonly inputs: readonly RunDataSetIo[]; readonly outputs: readonly RunDataSetIo[] }
    | undefined;
  /** Whether the Transform emits lineage (`spec.lineage.enabled`, default true). */
  readonly lineageEnabled?: boolean | undefined;
  /** `batch` or `streaming`. */
  readonly mode?: 'batch' | 'streaming' | undefined;
  /** The task-definition family (`datakit-{cell}-{ns}-{name}`), once Prepare knows it. */
  readonly family?: string | undefined;
  /** The task, once known (ECS task ARN; `local:task/{runId}` locally). */
  readonly taskArn?: string | undefined;
  readonly updatedAt: string;
  readonly revision: number;
}

/** What creating a run needs; everything else starts empty. */
export interface NewRun {
  readonly runId: string;
  readonly namespace: string;
  readonly name: string;
  readonly version: string;
  readonly digest: string;
  readonly env: string;
  readonly cell: string;
  readonly trigger: RunTrigger;
  readonly requestedBy?: string | undefined;
  readonly createdAt: string;
}

/** A PENDING run record; its lineage identity is the package as job and the run id as run. */
export function newRunRecord(run: NewRun): RunRecord {
  return {
    ...run,
    status: 'PENDING',
    lineage: { namespace: run.namespace, name: run.name, runId: run.runId },
    updatedAt: run.createdAt,
    revision: 0,
  };
}

export type { RunStatus };
