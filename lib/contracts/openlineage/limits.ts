import type { Problem } from '../problem.js';
import { formatPath } from '../zod-problems.js';
import type { SchemaField } from './facets.js';

// What one lineage event may hold. Each bound is derived from the 400 KB DynamoDB item that holds a job
// together with its latest run (ADR 0005, "Limits"): the job's record lists every input and output of the
// event twice (its current IO and its latest run's IO) and the embedded run once more, with a version id;
// facets are dropped from a record that would not fit, names and counts cannot be. The other bounds keep the
// work of one event (items written, recursion) small enough to finish well inside a Lambda timeout.

/** Deepest nesting of objects and arrays, the event itself being level 1 (Jackson, Marquez's parser, allows 1000). */
export const maxEventNesting = 100;
/** Inputs and outputs of one event, together. */
export const maxEventDatasets = 1000;
/** UTF-8 bytes of the namespaces and names of one event's inputs and outputs, together. */
export const maxEventDatasetNameBytes = 64 * 1024;
/** UTF-8 bytes of one namespace or name (Marquez's namespace limit). */
export const maxNameBytes = 1024;
/** Fields of one schema facet, nested (struct) fields included. */
export const maxSchemaFields = 1000;
/** Output fields described by the column-lineage facets of one event's outputs, together. */
export const maxColumnLineageFields = 1000;
/** Input fields those output fields name, together: one consumer edge write each. */
export const maxColumnLineageInputs = 10_000;

/** The bounds above, by name, for documentation and refusal messages. */
export const lineageEventLimits = {
  maxEventNesting,
  maxEventDatasets,
  maxEventDatasetNameBytes,
  maxNameBytes,
  maxSchemaFields,
  maxColumnLineageFields,
  maxColumnLineageInputs,
} as const;

interface Frame {
  readonly value: unknown;
  readonly depth: number;
  readonly parent: Frame | undefined;
  readonly key: string | number | undefined;
}

function pathOf(frame: Frame): string | undefined {
  const segments: (string | number)[] = [];
  for (let at: Frame | undefined = frame; at?.key !== undefined; at = at.parent) segments.push(at.key);
  return formatPath(segments.reverse());
}

/**
 * The path of the first object or array nested deeper than `maxDepth` levels (the value itself is level 1),
 * or `undefined`. Iterative, with an explicit stack: it must not overflow the call stack on the very input it
 * exists to refuse, and it stops descending past the limit, so its work is bounded by the value's size.
 */
export function tooDeepPath(value: unknown, maxDepth: number = maxEventNesting): string | undefined {
  const stack: Frame[] = [{ value, depth: 1, parent: undefined, key: undefined }];
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    const current = frame.value;
    if (typeof current !== 'object' || current === null) continue;
    if (frame.depth > maxDepth) return pathOf(frame) ?? '';
    const children: [string | number, unknown][] = Array.isArray(current)
      ? current.map((child, index) => [index, child])
      : Object.entries(current);
    // Pushed in reverse so the first child is visited first: the reported path is the first in document order.
    for (let index = children.length - 1; index >= 0; index--) {
      const child = children[index];
      if (child === undefined || typeof child[1] !== 'object' || child[1] === null) continue;
      stack.push({ value: child[1], depth: frame.depth + 1, parent: frame, key: child[0] });
    }
  }
  return undefined;
}

interface TextFrame {
  readonly kind: 'object' | 'array';
  segment: string | number | undefined;
  expectKey: boolean;
}

const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;

/**
 * `tooDeepPath` for JSON text, before it is parsed: V8's `JSON.parse` does not recurse, but it takes seconds
 * on megabytes of `[[[[…`, which a scan refuses in milliseconds. Tracks keys and indexes only to name the
 * path; it does not validate — text that is not JSON is left to `JSON.parse`.
 */
export function tooDeepTextPath(text: string, maxDepth: number = maxEventNesting): string | undefined {
  const frames: TextFrame[] = [];
  for (let at = 0; at < text.length; at++) {
    const char = text.charCodeAt(at);
    const top = frames[frames.length - 1];
    if (char === QUOTE) {
      let end = at + 1;
      while (end < text.length && text.charCodeAt(end) !== QUOTE)
        end += text.charCodeAt(end) === BACKSLASH ? 2 : 1;
      if (top?.kind === 'object' && top.expectKey) {
        try {
          const key: unknown = JSON.parse(text.slice(at, end + 1));
          top.segment = typeof key === 'string' ? key : undefined;
        } catch {
          return undefined;
        }
      }
      at = end;
    } else if (char === OPEN_OBJECT || char === OPEN_ARRAY) {
      if (frames.length + 1 > maxDepth) {
        return formatPath(frames.map((frame) => frame.segment ?? '')) ?? '';
      }
      frames.push(
        char === OPEN_OBJECT
          ? { kind: 'object', segment: undefined, expectKey: true }
          : { kind: 'array', segment: 0, expectKey: false },
      );
    } else if (char === CLOSE_OBJECT || char === CLOSE_ARRAY) {
      frames.pop();
    } else if (char === COMMA && top !== undefined) {
      if (top.kind === 'array') top.segment = Number(top.segment) + 1;
      else top.expectKey = true;
    } else if (char === COLON && top !== undefined) {
      top.expectKey = false;
    }
  }
  return undefined;
}

/** What the limits need of an event: its names, datasets and the typed facets that become records. */
export interface LimitedDataset {
  readonly namespace: string;
  readonly name: string;
  readonly known: {
    readonly schema?: { readonly fields?: readonly SchemaField[] | undefined } | undefined;
    readonly columnLineage?:
      | { readonly fields: Readonly<Record<string, { readonly inputFields: readonly unknown[] }>> }
      | undefined;
  };
}

/** The parts of a normalized event the limits look at. */
export interface LimitedEvent {
  readonly job?: { readonly namespace: string; readonly name: string } | undefined;
  readonly dataset?: LimitedDataset | undefined;
  readonly inputs: readonly LimitedDataset[];
  readonly outputs: readonly LimitedDataset[];
}

function bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Fields of a schema, nested ones included, counted without recursion. */
function countFields(fields: readonly SchemaField[]): number {
  let count = 0;
  const pending: (readonly SchemaField[])[] = [fields];
  for (let list = pending.pop(); list !== undefined; list = pending.pop()) {
    count += list.length;
    for (const field of list) if (field.fields !== undefined) pending.push(field.fields);
  }
  return count;
}

function nameProblems(path: string, named: { namespace: string; name: string }): Problem[] {
  return (['namespace', 'name'] as const)
    .filter((part) => bytes(named[part]) > maxNameBytes)
    .map((part) => ({
      code: 'OL_NAME_TOO_LONG',
      path: `${path}.${part}`,
      message: `${path}.${part} is ${bytes(named[part])} bytes; at most ${maxNameBytes} are accepted`,
    }));
}

function schemaProblems(path: string, dataset: LimitedDataset): Problem[] {
  const fields = dataset.known.schema?.fields;
  if (fields === undefined) return [];
  const count = countFields(fields);
  if (count <= maxSchemaFields) return [];
  return [
    {
      code: 'OL_TOO_MANY_FIELDS',
      path: `${path}.facets.schema.fields`,
      message: `The schema has ${count} fields (nested ones included); at most ${maxSchemaFields} are accepted`,
    },
  ];
}

/**
 * Every bound of `lineageEventLimits` (but nesting, checked before parsing) the event breaks, each naming the
 * field: the first input or output past a count, the name or facet too large.
 */
export function eventLimitProblems(event: LimitedEvent): Problem[] {
  const problems: Problem[] = [];
  if (event.job !== undefined) problems.push(...nameProblems('job', event.job));
  if (event.dataset !== undefined) {
    problems.push(...nameProblems('dataset', event.dataset), ...schemaProblems('dataset', event.dataset));
  }
  const datasets = [
    ...event.inputs.map((dataset, index) => ({ dataset, path: `inputs[${index}]` })),
    ...event.outputs.map((dataset, index) => ({ dataset, path: `outputs[${index}]` })),
  ];
  let nameBytes = 0;
  let namesReported = false;
  for (const [position, { dataset, path }] of datasets.entries()) {
    if (position === maxEventDatasets) {
      problems.push({
        code: 'OL_TOO_MANY_DATASETS',
        path,
        message: `The event names ${datasets.length} inputs and outputs; at most ${maxEventDatasets} are accepted`,
      });
    }
    problems.push(...nameProblems(path, dataset), ...schemaProblems(path, dataset));
    nameBytes += bytes(dataset.namespace) + bytes(dataset.name);
    if (nameBytes > maxEventDatasetNameBytes && !namesReported) {
      namesReported = true;
      problems.push({
        code: 'OL_DATASET_NAMES_TOO_LONG',
        path,
        message: `The namespaces and names of the inputs and outputs pass ${maxEventDatasetNameBytes} bytes here`,
      });
    }
  }
  let lineageFields = 0;
  let lineageInputs = 0;
  for (const [index, output] of event.outputs.entries()) {
    const fields = output.known.columnLineage?.fields;
    if (fields === undefined) continue;
    const path = `outputs[${index}].facets.columnLineage.fields`;
    const before = { fields: lineageFields, inputs: lineageInputs };
    lineageFields += Object.keys(fields).length;
    lineageInputs += Object.values(fields).reduce((total, field) => total + field.inputFields.length, 0);
    if (lineageFields > maxColumnLineageFields && before.fields <= maxColumnLineageFields) {
      problems.push({
        code: 'OL_TOO_MANY_FIELDS',
        path,
        message: `The column-lineage facets describe ${lineageFields} output fields so far; at most ${maxColumnLineageFields} per event are accepted`,
      });
    }
    if (lineageInputs > maxColumnLineageInputs && before.inputs <= maxColumnLineageInputs) {
      problems.push({
        code: 'OL_TOO_MANY_FIELDS',
        path,
        message: `The column-lineage facets name ${lineageInputs} input fields so far; at most ${maxColumnLineageInputs} per event are accepted`,
      });
    }
  }
  return problems;
}
