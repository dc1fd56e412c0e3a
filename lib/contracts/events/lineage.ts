import * as z from 'zod';

/**
 * The OpenLineage `producer` of the events the control plane emits for its own runs. Their `DataSet Updated`
 * events come from the run's Complete step (with the DataKit identity, lineage on or off), so ingestion does
 * not publish them a second time.
 */
export const dataKitRunProducer = 'https://datakit.infoblox.dev/control-plane';

/**
 * Detail of `DataSet Updated`: a run completed and wrote this dataset. Published once per output of
 * every `COMPLETE` OpenLineage event of an external producer, and once per output of every SUCCEEDED
 * DataKit run (by the run's Complete step, lineage on or off), at least once (a retried or replayed
 * event publishes again; consumers deduplicate on `runId` + dataset).
 */
export const datasetUpdatedDetailSchema = z
  .object({
    /** The dataset written. */
    dataset: z.object({ namespace: z.string(), name: z.string() }),
    /** The dataset version this run produced. */
    version: z.string(),
    /** The run that wrote it and its job. */
    runId: z.string(),
    job: z.object({ namespace: z.string(), name: z.string() }),
    /** eventTime of the COMPLETE event (UTC ISO). */
    eventTime: z.string(),
    /** The OpenLineage producer URI, '' when the producer did not say. */
    producer: z.string(),
    /** Id of the stored raw event (`GET /api/v1/events/lineage`); absent when the run emits no lineage. */
    lineageEventId: z.string().optional(),
    /** The cell whose Store was written, when the dataset is a DataKit DataSet. */
    cell: z.string().optional(),
    /** The DataKit DataSet written, when the dataset is one. */
    datakit: z.object({ namespace: z.string(), name: z.string() }).optional(),
    /** The run that wrote it (the same as `runId`; named as the trigger resolver reads it). */
    producerRunId: z.string().optional(),
    /** Consumers already triggered along this chain of updates (cycle cut at run time). */
    chain: z.array(z.string()).optional(),
    /** The run's parent run (OpenLineage parent facet): a child of a DataKit run is announced by its parent. */
    parentRunId: z.string().optional(),
  })
  .meta({ id: 'DataSetUpdatedDetail' });

export type DatasetUpdatedDetail = z.infer<typeof datasetUpdatedDetailSchema>;

/**
 * The DataKit DataSet a dataset names in its `symlinks` facet (`namespace: datakit://{cell}/{ns}`, as the
 * control plane's own runs write it and any producer may), or undefined.
 */
export function dataKitIdentityOf(
  identifiers: readonly { readonly namespace: string; readonly name: string }[],
): { readonly cell: string; readonly namespace: string; readonly name: string } | undefined {
  for (const identifier of identifiers) {
    const match = /^datakit:\/\/([^/]+)\/(.+)$/u.exec(identifier.namespace);
    if (match?.[1] !== undefined && match[2] !== undefined)
      return { cell: match[1], namespace: match[2], name: identifier.name };
  }
  return undefined;
}
