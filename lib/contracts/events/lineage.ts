import * as z from 'zod';

/**
 * Detail of `DataSet Updated`: a run completed and wrote this dataset. Published once per output of
 * every `COMPLETE` OpenLineage event, at least once (a retried or replayed event publishes again;
 * consumers deduplicate on `runId` + dataset).
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
    /** Id of the stored raw event (`GET /api/v1/events/lineage`). */
    lineageEventId: z.string(),
  })
  .meta({ id: 'DataSetUpdatedDetail' });

export type DatasetUpdatedDetail = z.infer<typeof datasetUpdatedDetailSchema>;
