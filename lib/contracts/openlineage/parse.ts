import * as z from 'zod';
import type { Problem } from '../problem.js';
import { formatPath } from '../zod-problems.js';
import { type OpenLineageCode, openLineageCodes } from './codes.js';
import { normalizeEventTime } from './event-time.js';
import { type EventType, eventTypes } from './events.js';
import {
  type KnownDatasetFacets,
  type KnownJobFacets,
  type KnownRunFacets,
  knownDatasetFacetsSchema,
  knownJobFacetsSchema,
  knownRunFacetsSchema,
} from './facets.js';
import { eventLimitProblems, maxEventNesting, tooDeepPath, tooDeepTextPath } from './limits.js';
import { runIdToUuid } from './run-id.js';

/** Facets exactly as the producer sent them (opaque JSON), keyed by facet name. */
export type RawFacets = Record<string, unknown>;

/**
 * The run of a RunEvent. `runId` is a lower-case UUID: one run is one key whatever the producer's casing,
 * and a run id that is not a UUID is mapped to its name-based UUID as Marquez maps it (`runIdToUuid`).
 */
export interface NormalizedRun {
  runId: string;
  facets: RawFacets;
  known: KnownRunFacets;
}

/** A job reference with its facets. */
export interface NormalizedJob {
  namespace: string;
  name: string;
  facets: RawFacets;
  known: KnownJobFacets;
}

/** A dataset reference with its facets. */
export interface NormalizedDataset {
  namespace: string;
  name: string;
  facets: RawFacets;
  known: KnownDatasetFacets;
}

/** A dataset read by the run, with the read-specific `inputFacets`. */
export interface NormalizedInputDataset extends NormalizedDataset {
  inputFacets: RawFacets;
}

/** A dataset written by the run, with the write-specific `outputFacets`. */
export interface NormalizedOutputDataset extends NormalizedDataset {
  outputFacets: RawFacets;
}

/** Which of the three OpenLineage event shapes an event is. */
export type LineageEventKind = 'run' | 'dataset' | 'job';

/** An accepted event: identities checked, time normalised to UTC, known facets typed, the original kept. */
export interface NormalizedLineageEvent {
  kind: LineageEventKind;
  /** Only RunEvents carry one, and even they may omit it (then it only merges facets). */
  eventType?: EventType;
  /** UTC, millisecond precision (`2024-05-01T10:00:00.000Z`). */
  eventTime: string;
  /** '' when the producer did not say who it is. */
  producer: string;
  schemaURL?: string;
  run?: NormalizedRun;
  job?: NormalizedJob;
  inputs: NormalizedInputDataset[];
  outputs: NormalizedOutputDataset[];
  /** The dataset of a DatasetEvent. */
  dataset?: NormalizedDataset;
  /** The event as received; the source of truth that is stored and replayed. */
  raw: Record<string, unknown>;
}

/** The outcome of parsing: the normalized event, or every reason it was refused. */
export type ParseLineageEventResult =
  | { ok: true; event: NormalizedLineageEvent }
  | { ok: false; problems: Problem[] };

/** Options of `parseLineageEvent`. */
export interface ParseLineageEventOptions {
  /** Largest JSON text accepted, in UTF-8 bytes. @default 5 MiB */
  readonly maxBytes?: number;
}

/** The default body limit: well inside Lambda's 6 MB payload; raw events are stored in S3, not in items. */
export const DEFAULT_MAX_EVENT_BYTES = 5 * 1024 * 1024;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPresent(value: unknown): boolean {
  return value !== undefined && value !== null;
}

const nonBlank = z.string().refine((text) => text.trim() !== '', { message: 'Must not be empty' });
// Only the container must be an object: facet values stay opaque, so a broken facet never refuses an event.
const rawFacets = z.record(z.string(), z.unknown()).nullish();

const lenientDataset = z.looseObject({ namespace: nonBlank, name: nonBlank, facets: rawFacets });
const lenientInput = lenientDataset.extend({ inputFacets: rawFacets });
const lenientOutput = lenientDataset.extend({ outputFacets: rawFacets });
const lenientJob = z.looseObject({ namespace: nonBlank, name: nonBlank, facets: rawFacets });
const lenientRun = z.looseObject({ runId: nonBlank, facets: rawFacets });

/**
 * `eventType` as Marquez reads it: in any case (`compleTe`, `Fail`), and a value it does not know
 * (`FAILED`, `SUCCESS`) is a transition that is not terminal — Marquez's RUNNING. Only a non-string is
 * refused.
 */
const lenientEventType = z.string().transform((text): EventType => {
  const upper = text.trim().toUpperCase();
  return eventTypes.find((known) => known === upper) ?? 'RUNNING';
});

const lenientEventTime = z.string().transform((text, ctx) => {
  const normalized = normalizeEventTime(text);
  if (normalized === undefined) {
    ctx.addIssue({ code: 'custom', message: 'Expected an ISO-8601 date-time' });
    return z.NEVER;
  }
  return normalized;
});

const lenientBase = {
  eventTime: lenientEventTime,
  producer: z.string().nullish(),
  schemaURL: z.string().nullish(),
};

const lenientRunEvent = z.looseObject({
  ...lenientBase,
  eventType: lenientEventType.nullish(),
  run: lenientRun,
  job: lenientJob,
  inputs: z.array(lenientInput).nullish(),
  outputs: z.array(lenientOutput).nullish(),
});

const lenientJobEvent = z.looseObject({
  ...lenientBase,
  job: lenientJob,
  inputs: z.array(lenientInput).nullish(),
  outputs: z.array(lenientOutput).nullish(),
});

const lenientDatasetEvent = z.looseObject({ ...lenientBase, dataset: lenientDataset });

const SCHEMA_FRAGMENT = /#\/(?:\$defs|definitions)\/(RunEvent|DatasetEvent|JobEvent)$/;

/**
 * Which shape an event has. Marquez dispatches on the `schemaURL` fragment and defaults to RunEvent; we do the
 * same, and without a fragment also recognise the static shapes: `dataset` without `job`/`run` is a
 * DatasetEvent, `job` without `run` is a JobEvent — unless it carries an `eventType`, which only run
 * transitions have, so it is a RunEvent missing its run.
 */
export function lineageEventKind(event: Record<string, unknown>): LineageEventKind {
  const schemaURL = event.schemaURL;
  const fragment = typeof schemaURL === 'string' ? SCHEMA_FRAGMENT.exec(schemaURL)?.[1] : undefined;
  if (fragment === 'DatasetEvent') return 'dataset';
  if (fragment === 'JobEvent') return 'job';
  if (fragment === 'RunEvent') return 'run';
  if (isPresent(event.run)) return 'run';
  if (isPresent(event.dataset) && !isPresent(event.job)) return 'dataset';
  if (isPresent(event.job) && !isPresent(event.eventType)) return 'job';
  return 'run';
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const segment of path) {
    if (Array.isArray(current) && typeof segment === 'number') current = current[segment];
    else if (isRecord(current) && typeof segment === 'string') current = current[segment];
    else return undefined;
  }
  return current;
}

function problem(code: OpenLineageCode, path: string, message: string): Problem {
  return { code, path, message };
}

function problemFromIssue(issue: z.core.$ZodIssue, event: Record<string, unknown>): Problem {
  const path = formatPath(issue.path) ?? '';
  const value = valueAt(event, issue.path);
  const last = issue.path[issue.path.length - 1];
  const missing =
    typeof last === 'string' && (!isPresent(value) || (typeof value === 'string' && value.trim() === ''));
  const invalid = () => problem('OL_INVALID_FIELD', path, `${path}: ${issue.message}`);
  switch (path) {
    case 'run':
      return missing ? problem('OL_MISSING_RUN_ID', 'run.runId', 'A run event needs run.runId') : invalid();
    case 'run.runId':
      return missing
        ? problem('OL_MISSING_RUN_ID', path, 'A run event needs run.runId')
        : problem('OL_INVALID_RUN_ID', path, 'run.runId must be a string');
    case 'job':
      return missing
        ? problem('OL_MISSING_JOB', path, 'The event needs a job with namespace and name')
        : invalid();
    case 'eventTime':
      return missing
        ? problem('OL_MISSING_FIELD', path, 'eventTime is required')
        : problem('OL_INVALID_EVENT_TIME', path, openLineageCodes.OL_INVALID_EVENT_TIME);
    case 'eventType':
      return problem('OL_INVALID_EVENT_TYPE', path, openLineageCodes.OL_INVALID_EVENT_TYPE);
    default:
      return missing
        ? problem('OL_MISSING_FIELD', path, `${path} is required and must not be empty`)
        : invalid();
  }
}

function problemsFrom(error: z.ZodError, event: Record<string, unknown>): Problem[] {
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const issue of error.issues) {
    const found = problemFromIssue(issue, event);
    const key = `${found.code} ${found.path ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(found);
  }
  return problems;
}

type LenientDataset = z.infer<typeof lenientDataset>;

function facetsOf(facets: Record<string, unknown> | null | undefined): RawFacets {
  return facets ?? {};
}

function normalizeDataset(dataset: LenientDataset): NormalizedDataset {
  const facets = facetsOf(dataset.facets);
  const known = knownDatasetFacetsSchema.safeParse(facets);
  return { namespace: dataset.namespace, name: dataset.name, facets, known: known.success ? known.data : {} };
}

function normalizeJob(job: z.infer<typeof lenientJob>): NormalizedJob {
  const facets = facetsOf(job.facets);
  const known = knownJobFacetsSchema.safeParse(facets);
  return { namespace: job.namespace, name: job.name, facets, known: known.success ? known.data : {} };
}

function normalizeRun(run: z.infer<typeof lenientRun>): NormalizedRun {
  const facets = facetsOf(run.facets);
  const known = knownRunFacetsSchema.safeParse(facets);
  const normalized: NormalizedRun = {
    runId: runIdToUuid(run.runId),
    facets,
    known: known.success ? known.data : {},
  };
  const parent = normalized.known.parent;
  // The parent's run id names a run too: mapped the same way, so the child points at the run Marquez would.
  if (parent !== undefined) {
    normalized.known = {
      ...normalized.known,
      parent: { ...parent, run: { ...parent.run, runId: runIdToUuid(parent.run.runId) } },
    };
  }
  return normalized;
}

function normalizeInputs(
  inputs: z.infer<typeof lenientInput>[] | null | undefined,
): NormalizedInputDataset[] {
  return (inputs ?? []).map((input) => ({
    ...normalizeDataset(input),
    inputFacets: facetsOf(input.inputFacets),
  }));
}

function normalizeOutputs(
  outputs: z.infer<typeof lenientOutput>[] | null | undefined,
): NormalizedOutputDataset[] {
  return (outputs ?? []).map((output) => ({
    ...normalizeDataset(output),
    outputFacets: facetsOf(output.outputFacets),
  }));
}

function envelope(
  kind: LineageEventKind,
  base: { eventTime: string; producer?: string | null | undefined; schemaURL?: string | null | undefined },
  raw: Record<string, unknown>,
): NormalizedLineageEvent {
  const event: NormalizedLineageEvent = {
    kind,
    eventTime: base.eventTime,
    producer: base.producer ?? '',
    inputs: [],
    outputs: [],
    raw,
  };
  if (typeof base.schemaURL === 'string') event.schemaURL = base.schemaURL;
  return event;
}

function parseObject(raw: Record<string, unknown>): ParseLineageEventResult {
  const kind = lineageEventKind(raw);
  if (kind === 'dataset') {
    const parsed = lenientDatasetEvent.safeParse(raw);
    if (!parsed.success) return { ok: false, problems: problemsFrom(parsed.error, raw) };
    return {
      ok: true,
      event: { ...envelope(kind, parsed.data, raw), dataset: normalizeDataset(parsed.data.dataset) },
    };
  }
  if (kind === 'job') {
    const parsed = lenientJobEvent.safeParse(raw);
    if (!parsed.success) return { ok: false, problems: problemsFrom(parsed.error, raw) };
    return {
      ok: true,
      event: {
        ...envelope(kind, parsed.data, raw),
        job: normalizeJob(parsed.data.job),
        inputs: normalizeInputs(parsed.data.inputs),
        outputs: normalizeOutputs(parsed.data.outputs),
      },
    };
  }
  const parsed = lenientRunEvent.safeParse(raw);
  if (!parsed.success) return { ok: false, problems: problemsFrom(parsed.error, raw) };
  const event: NormalizedLineageEvent = {
    ...envelope(kind, parsed.data, raw),
    run: normalizeRun(parsed.data.run),
    job: normalizeJob(parsed.data.job),
    inputs: normalizeInputs(parsed.data.inputs),
    outputs: normalizeOutputs(parsed.data.outputs),
  };
  const eventType = parsed.data.eventType;
  if (eventType !== undefined && eventType !== null) event.eventType = eventType;
  return { ok: true, event };
}

function refuse(code: OpenLineageCode, message: string): ParseLineageEventResult {
  return { ok: false, problems: [{ code, message }] };
}

function tooDeep(path: string): ParseLineageEventResult {
  const message = `${path}: nested more than ${maxEventNesting} objects and arrays deep`;
  return { ok: false, problems: [{ code: 'OL_TOO_DEEP', path, message }] };
}

/** The event within `lineageEventLimits`, or every limit it breaks. */
function withinLimits(result: ParseLineageEventResult): ParseLineageEventResult {
  if (!result.ok) return result;
  const problems = eventLimitProblems(result.event);
  return problems.length === 0 ? result : { ok: false, problems };
}

/**
 * Parses an OpenLineage RunEvent, DatasetEvent or JobEvent as leniently as Marquez: accepts the parsed JSON
 * value, or the JSON text itself (a Lambda body). Refuses only what cannot be stored as lineage, naming the
 * field — malformed identities, and events past `lineageEventLimits` — and keeps unknown or invalid facets
 * as opaque JSON.
 */
export function parseLineageEvent(
  json: unknown,
  options: ParseLineageEventOptions = {},
): ParseLineageEventResult {
  let value = json;
  if (typeof json === 'string') {
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_EVENT_BYTES;
    if (Buffer.byteLength(json, 'utf8') > maxBytes) {
      return refuse('OL_TOO_LARGE', `The lineage event exceeds ${maxBytes} bytes`);
    }
    const tooDeepText = tooDeepTextPath(json, maxEventNesting);
    if (tooDeepText !== undefined) return tooDeep(tooDeepText);
    try {
      value = JSON.parse(json);
    } catch {
      return refuse('OL_NOT_JSON', openLineageCodes.OL_NOT_JSON);
    }
  }
  // Before anything else walks the value: zod, hashing and serialising all recurse, and a stack overflow
  // would surface as a failure the producer retries forever instead of a refusal naming the field.
  const tooDeepValue = tooDeepPath(value, maxEventNesting);
  if (tooDeepValue !== undefined) return tooDeep(tooDeepValue);
  if (!isRecord(value)) return refuse('OL_NOT_OBJECT', openLineageCodes.OL_NOT_OBJECT);
  return withinLimits(parseObject(value));
}
