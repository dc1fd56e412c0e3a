/**
 * Stable codes for why `POST /api/v1/lineage` refused an event. Producers, logs and dashboards match on these
 * strings, so a code is never renamed or reused for another meaning. Everything not listed here is accepted:
 * unknown facets and known facets with invalid content are kept as opaque JSON.
 */
export const openLineageCodes = {
  /** The body is text that does not parse as JSON. */
  OL_NOT_JSON: 'The lineage event is not valid JSON.',
  /** The body parses, but to an array, a string, a number or null instead of an object. */
  OL_NOT_OBJECT: 'The lineage event must be a JSON object.',
  /** The body is bigger than the limit the endpoint accepts. */
  OL_TOO_LARGE: 'The lineage event exceeds the size limit.',
  /** A RunEvent has no `run` object, or its `run.runId` is absent or empty. */
  OL_MISSING_RUN_ID: 'The run event has no run.runId.',
  /** `run.runId` is not a string (any string is a run id: one that is not a UUID is mapped to one, as Marquez does). */
  OL_INVALID_RUN_ID: 'run.runId is not a string.',
  /** A RunEvent or JobEvent has no `job` object. */
  OL_MISSING_JOB: 'The event has no job.',
  /** A required field (job or dataset namespace/name, eventTime, a DatasetEvent's dataset) is absent or blank. */
  OL_MISSING_FIELD: 'A required field is missing or empty.',
  /** `eventTime` is not an ISO-8601 date-time. */
  OL_INVALID_EVENT_TIME: 'eventTime is not an ISO-8601 date-time.',
  /** `eventType` is not a string (any case is read; an unknown value is a non-terminal transition, as in Marquez). */
  OL_INVALID_EVENT_TYPE: 'eventType is not a string.',
  /** A field has the wrong JSON type (e.g. `inputs` is not an array, a facets container is not an object). */
  OL_INVALID_FIELD: 'A field has the wrong type.',
  /** Objects and arrays are nested more than 100 levels deep (`maxEventNesting`); the path names the first too deep. */
  OL_TOO_DEEP: 'The lineage event nests objects and arrays more than 100 levels deep.',
  /** More than 1000 inputs and outputs together (`maxEventDatasets`); the path names the first one past the limit. */
  OL_TOO_MANY_DATASETS: 'The lineage event names more than 1000 inputs and outputs.',
  /** A job's or dataset's namespace or name is over 1024 UTF-8 bytes (`maxNameBytes`). */
  OL_NAME_TOO_LONG: 'A namespace or name is longer than 1024 bytes.',
  /** The namespaces and names of the inputs and outputs pass 64 KiB together (`maxEventDatasetNameBytes`). */
  OL_DATASET_NAMES_TOO_LONG: 'The names of the inputs and outputs are longer than 64 KiB together.',
  /** A schema facet has more than 1000 fields, or the column-lineage facets more than 1000 fields or 10000 inputs. */
  OL_TOO_MANY_FIELDS: 'A schema or column-lineage facet has more fields than the limit.',
} as const;

/** One of the stable OpenLineage ingestion problem codes. */
export type OpenLineageCode = keyof typeof openLineageCodes;
