import type { Problem } from '../../contracts/problem.js';

/** A Marquez node id of a dataset: `dataset:<namespace>:<name>`. */
export type DatasetNodeId = `dataset:${string}`;
/** A Marquez node id of a job: `job:<namespace>:<name>`. */
export type JobNodeId = `job:${string}`;
/** A Marquez node id of a dataset column: `datasetField:<namespace>:<dataset>:<field>`. */
export type DatasetFieldNodeId = `datasetField:${string}`;
/** Any node of the lineage graphs, in Marquez's textual form (the form stored and sent over the API). */
export type NodeId = DatasetNodeId | JobNodeId | DatasetFieldNodeId;

/** A node id taken apart. */
export type ParsedNodeId =
  | { kind: 'dataset'; namespace: string; name: string }
  | { kind: 'job'; namespace: string; name: string }
  | { kind: 'datasetField'; namespace: string; dataset: string; field: string };

/** Stable code of a node id that cannot be read. */
export const NODE_ID_INVALID = 'LINEAGE_NODE_ID_INVALID';

/** The outcome of `parseNodeId`. */
export type ParseNodeIdResult = { ok: true; id: ParsedNodeId } | { ok: false; problem: Problem };

/** `dataset:<namespace>:<name>`. */
export function datasetNodeId(namespace: string, name: string): DatasetNodeId {
  return `dataset:${namespace}:${name}`;
}

/** `job:<namespace>:<name>`. */
export function jobNodeId(namespace: string, name: string): JobNodeId {
  return `job:${namespace}:${name}`;
}

/** `datasetField:<namespace>:<dataset>:<field>`. */
export function datasetFieldNodeId(namespace: string, dataset: string, field: string): DatasetFieldNodeId {
  return `datasetField:${namespace}:${dataset}:${field}`;
}

/** Formats a parsed node id back into Marquez's textual form. */
export function formatNodeId(id: ParsedNodeId): NodeId {
  switch (id.kind) {
    case 'dataset':
      return datasetNodeId(id.namespace, id.name);
    case 'job':
      return jobNodeId(id.namespace, id.name);
    case 'datasetField':
      return datasetFieldNodeId(id.namespace, id.dataset, id.field);
  }
}

/** True for the id of a job node. */
export function isJobNodeId(id: string): id is JobNodeId {
  return id.startsWith('job:');
}

/** True for the id of a dataset node (not a dataset field). */
export function isDatasetNodeId(id: string): id is DatasetNodeId {
  return id.startsWith('dataset:');
}

/** True for the id of a dataset field node. */
export function isDatasetFieldNodeId(id: string): id is DatasetFieldNodeId {
  return id.startsWith('datasetField:');
}

// A colon that separates parts is one NOT followed by `//` (scheme://authority) or a digit (host:port):
// that is how Marquez keeps `postgres://host:5432` in one namespace.
const SEPARATOR = /:(?!\/\/|\d)/g;

/**
 * Splits the text after the `kind:` prefix into `count` parts with Marquez's rules: when it has exactly
 * `count - 1` colons, every colon separates; otherwise only colons not followed by `//` or a digit do, the
 * first `count - 1` of them, and the last part keeps the rest (colons included).
 */
function splitParts(rest: string, count: number): string[] | undefined {
  const plain = rest.split(':');
  if (plain.length === count) return plain;
  if (plain.length < count) return undefined;
  const parts: string[] = [];
  let start = 0;
  for (const match of rest.matchAll(SEPARATOR)) {
    if (parts.length === count - 1) break;
    parts.push(rest.slice(start, match.index));
    start = match.index + 1;
  }
  if (parts.length < count - 1) return undefined;
  parts.push(rest.slice(start));
  return parts;
}

function invalid(value: string, why: string): ParseNodeIdResult {
  return { ok: false, problem: { code: NODE_ID_INVALID, path: 'nodeId', message: `${why}: ${value}` } };
}

const PREFIXES = [
  { prefix: 'datasetField:', kind: 'datasetField', parts: 3 },
  { prefix: 'dataset:', kind: 'dataset', parts: 2 },
  { prefix: 'job:', kind: 'job', parts: 2 },
] as const;

/**
 * Reads a Marquez node id (`dataset:postgres://host:5432:db.schema.table`, `job:my-ns:my.job`,
 * `datasetField:ns:table:column`). Unlike Marquez, the kind prefix is split off first, so a namespace that
 * starts with a digit still parses; `#version` suffixes are not special and stay part of the name.
 */
export function parseNodeId(value: unknown): ParseNodeIdResult {
  if (typeof value !== 'string')
    return invalid(value === null ? 'null' : typeof value, 'A node id must be a string');
  const entry = PREFIXES.find((candidate) => value.startsWith(candidate.prefix));
  if (entry === undefined) {
    return invalid(value, "A node id starts with 'dataset:', 'job:' or 'datasetField:'");
  }
  const parts = splitParts(value.slice(entry.prefix.length), entry.parts);
  if (parts === undefined || parts.some((part) => part === '')) {
    return invalid(
      value,
      `A ${entry.kind} node id has ${entry.parts} non-empty parts after '${entry.prefix}'`,
    );
  }
  const [namespace = '', second = '', third = ''] = parts;
  if (entry.kind === 'datasetField') {
    return { ok: true, id: { kind: 'datasetField', namespace, dataset: second, field: third } };
  }
  return { ok: true, id: { kind: entry.kind, namespace, name: second } };
}

/** Parses a node id known to be well formed (one this module formatted); `undefined` otherwise. */
export function readNodeId(value: string): ParsedNodeId | undefined {
  const parsed = parseNodeId(value);
  return parsed.ok ? parsed.id : undefined;
}
