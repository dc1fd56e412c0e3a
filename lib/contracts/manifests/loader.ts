import { type Document, isMap, isNode, isScalar, isSeq, LineCounter, parseAllDocuments } from 'yaml';
import type * as z from 'zod';
import type { Problem } from '../problem.js';
import { type ManifestCode, manifestCodes } from './codes.js';
import { type Manifest, type ManifestKind, manifestKindSchema, manifestSchema } from './manifest.js';
import { API_VERSION } from './metadata.js';

/** The outcome of reading one manifest file: the typed manifest, or every problem found in it. */
export type LoadManifestResult =
  | { readonly ok: true; readonly manifest: Manifest; readonly warnings: Problem[] }
  | { readonly ok: false; readonly problems: Problem[] };

export interface LoadManifestOptions {
  /** Shown in YAML positions (`dk.yaml:3:5`) so a problem can be found in a package with several files. */
  readonly file?: string;
  /**
   * Problems returned at most. A hostile manifest can break the schema hundreds of thousands of times,
   * and locating each problem walks the document. @default no limit
   */
  readonly maxProblems?: number;
}

type Segment = string | number;

/** A field (or subtree, when `deep`) whose problems carry a `dk lint` code. */
interface CodeRule {
  readonly path: readonly string[];
  readonly code: ManifestCode;
  readonly deep?: boolean;
}

const NAME_RULE: CodeRule = { path: ['metadata', 'name'], code: 'E001' };
const VERSION_RULE: CodeRule = { path: ['metadata', 'version'], code: 'E020' };

// `[]` stands for any list index. Only the list itself carries E230/E231: a wrong-typed field inside one input is a
// plain schema problem, whereas an input naming neither dataset nor tags is flagged E230 by the schema's refinement.
const CODE_RULES: Record<ManifestKind, readonly CodeRule[]> = {
  Transform: [
    NAME_RULE,
    VERSION_RULE,
    { path: ['spec', 'runtime'], code: 'E040' },
    { path: ['spec', 'inputs'], code: 'E230' },
    { path: ['spec', 'outputs'], code: 'E231' },
    { path: ['spec', 'image'], code: 'E030' },
    { path: ['spec', 'timeout'], code: 'E031' },
  ],
  DataSet: [
    NAME_RULE,
    VERSION_RULE,
    { path: ['spec', 'store'], code: 'E220' },
    { path: ['spec', 'schema'], code: 'E222', deep: true },
    { path: ['spec', 'schemaRef'], code: 'E311' },
  ],
  DataSetGroup: [
    NAME_RULE,
    { path: ['spec', 'store'], code: 'E240' },
    { path: ['spec', 'datasets'], code: 'E241', deep: true },
  ],
  Connector: [
    NAME_RULE,
    { path: ['spec', 'version'], code: 'E020' },
    { path: ['spec', 'type'], code: 'E200' },
    { path: ['spec', 'capabilities'], code: 'E201', deep: true },
  ],
  Store: [
    NAME_RULE,
    { path: ['spec', 'connector'], code: 'E210' },
    { path: ['spec', 'connection'], code: 'E211' },
    { path: ['spec', 'secrets'], code: 'E212', deep: true },
  ],
};

const PATTERN_HINTS: Partial<Record<ManifestCode, string>> = {
  E001: 'is not DNS-safe: start with a lowercase letter, then lowercase letters, digits or "-", 63 characters at most',
  E020: 'is not a semantic version such as 1.2.0',
  E031: 'is not a duration such as 30s, 10m or 2h',
  E212: `must reference a variable as \${NAME}`,
  E311: 'must be a module name, optionally with a constraint (users or users@^1.0.0)',
};

/** Parses one DataKit manifest file and validates it against its kind's contract; never throws. */
export function loadManifest(text: string, options: LoadManifestOptions = {}): LoadManifestResult {
  try {
    return load(text, options);
  } catch (error) {
    // Defence in depth: the YAML library or a refinement failing unexpectedly must still yield a problem.
    const reason = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      problems: [{ code: 'DK_YAML_INVALID', message: `the manifest could not be read: ${reason}` }],
    };
  }
}

function load(text: string, options: LoadManifestOptions): LoadManifestResult {
  const lineCounter = new LineCounter();
  const where = (offset: number): string => {
    const { line, col } = lineCounter.linePos(offset);
    return options.file === undefined ? `line ${line}, column ${col}` : `${options.file}:${line}:${col}`;
  };
  // uniqueKeys (the default) makes duplicate keys an error rather than a silent last-one-wins.
  const documents = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });

  const yamlErrors = documents.flatMap((document) => document.errors);
  if (yamlErrors.length > 0) {
    return {
      ok: false,
      problems: yamlErrors.slice(0, options.maxProblems).map((error) => ({
        code: 'DK_YAML_INVALID',
        message: `invalid YAML at ${where(error.pos[0])}: ${error.message}`,
      })),
    };
  }

  // A trailing `---` or a comment-only document is not a second manifest.
  const nonEmpty = documents.filter((document) => !isEmptyDocument(document));
  const [document, second] = nonEmpty;
  if (second !== undefined) {
    const start = second.contents?.range[0] ?? 0;
    return {
      ok: false,
      problems: [
        {
          code: 'DK_YAML_MULTIPLE_DOCUMENTS',
          message: `the file holds ${nonEmpty.length} YAML documents (the second starts at ${where(start)}); put each manifest in its own file`,
        },
      ],
    };
  }
  if (document === undefined || !isMap(document.contents)) {
    const what = document === undefined ? 'empty' : 'not a mapping of fields';
    return {
      ok: false,
      problems: [
        {
          code: 'DK_YAML_NOT_MAPPING',
          message: `the document is ${what}; a manifest starts with apiVersion: and kind:`,
        },
      ],
    };
  }

  const warnings: Problem[] = document.warnings.map((warning) => ({
    code: 'DK_YAML_WARNING',
    message: `${warning.message} (at ${where(warning.pos[0])})`,
  }));
  const data: unknown = document.toJS({ maxAliasCount: 100 });
  const locate = (path: readonly Segment[]): string => {
    const offset = offsetOf(document, path);
    return offset === undefined ? '' : ` (at ${where(offset)})`;
  };

  const kind = manifestKindSchema.safeParse(fieldOf(data, 'kind'));
  if (!kind.success) {
    return { ok: false, problems: envelopeProblems(data).map((problem) => withPosition(problem, locate)) };
  }
  const parsed = manifestSchema.safeParse(data, { reportInput: true });
  if (parsed.success) {
    return { ok: true, manifest: parsed.data, warnings };
  }
  const maxProblems = options.maxProblems ?? Number.POSITIVE_INFINITY;
  // Every issue yields at least one problem, so the issues past `maxProblems` are never needed.
  const problems = parsed.error.issues
    .slice(0, maxProblems)
    .flatMap((issue) => problemsFor(issue, kind.data))
    .slice(0, maxProblems);
  return { ok: false, problems: problems.map((problem) => withPosition(problem, locate)) };
}

interface LocatedProblem {
  readonly problem: Problem;
  readonly segments: readonly Segment[];
}

function withPosition(
  { problem, segments }: LocatedProblem,
  locate: (path: readonly Segment[]) => string,
): Problem {
  return { ...problem, message: `${problem.message}${locate(segments)}` };
}

/** Without a known kind there is no schema to apply, so only the envelope (apiVersion, kind) is reported. */
function envelopeProblems(data: unknown): LocatedProblem[] {
  const problems: LocatedProblem[] = [];
  const apiVersion = fieldOf(data, 'apiVersion');
  const kind = fieldOf(data, 'kind');
  if (apiVersion !== API_VERSION) {
    problems.push(located('DK_API_VERSION', ['apiVersion'], apiVersionMessage(apiVersion)));
  }
  const kinds = manifestKindSchema.options.join(', ');
  const message =
    kind === undefined
      ? `kind is required (one of ${kinds})`
      : `kind ${describe(kind)} is not one of ${kinds}`;
  problems.push(located('E002', ['kind'], message));
  return problems;
}

function problemsFor(issue: z.core.$ZodIssue, kind: ManifestKind): LocatedProblem[] {
  const segments = issue.path.map((segment) => (typeof segment === 'number' ? segment : String(segment)));
  if (issue.code === 'unrecognized_keys') {
    const where = segments.length === 0 ? 'at the top level' : `in ${formatPath(segments)}`;
    return issue.keys.map((key) =>
      located(
        'DK_UNKNOWN_FIELD',
        [...segments, key],
        `unknown field "${key}" ${where}: the schema does not allow it`,
      ),
    );
  }
  const code = codeFor(issue, segments, kind);
  return [located(code, segments, messageFor(issue, segments, code))];
}

function codeFor(issue: z.core.$ZodIssue, segments: readonly Segment[], kind: ManifestKind): ManifestCode {
  if (issue.code === 'custom' && isManifestCode(issue.params?.code)) {
    return issue.params.code;
  }
  if (segments.length === 1 && segments[0] === 'apiVersion') {
    return 'DK_API_VERSION';
  }
  if (segments.length === 1 && segments[0] === 'kind') {
    return 'E002';
  }
  const rule = CODE_RULES[kind].find((candidate) => matches(candidate, segments));
  return rule?.code ?? 'DK_SCHEMA';
}

function matches(rule: CodeRule, segments: readonly Segment[]): boolean {
  if (segments.length < rule.path.length || (!rule.deep && segments.length !== rule.path.length)) {
    return false;
  }
  return rule.path.every((part, index) => segments[index] === part);
}

function messageFor(issue: z.core.$ZodIssue, segments: readonly Segment[], code: ManifestCode): string {
  const path = formatPath(segments);
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) {
        return `${path} is required`;
      }
      const quoteHint =
        issue.expected === 'string' && typeof issue.input !== 'object'
          ? ' (quote the value to make it text)'
          : '';
      return `${path} must be ${expectedType(issue.expected)}, got ${describe(issue.input)}${quoteHint}`;
    }
    case 'invalid_value': {
      if (code === 'DK_API_VERSION') {
        return apiVersionMessage(issue.input);
      }
      const allowed = issue.values.map((value) => JSON.stringify(value)).join(', ');
      return `${path} must be one of ${allowed}, got ${describe(issue.input)}`;
    }
    case 'invalid_format': {
      const hint = PATTERN_HINTS[code] ?? `must match ${issue.pattern ?? issue.format}`;
      return `${path} ${describe(issue.input)} ${hint}`;
    }
    case 'too_small':
      return issue.origin === 'array'
        ? `${path} must not be empty`
        : `${path} must be at least ${issue.minimum}`;
    default:
      return issue.message;
  }
}

function apiVersionMessage(actual: unknown): string {
  return actual === undefined
    ? `apiVersion is required (${API_VERSION})`
    : `apiVersion must be ${API_VERSION}, got ${describe(actual)}`;
}

function expectedType(expected: string): string {
  switch (expected) {
    case 'object':
    case 'record':
      return 'a mapping';
    case 'array':
      return 'a list';
    case 'int':
      return 'an integer';
    default:
      return `a ${expected}`;
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  }
  if (value === null) {
    return 'null';
  }
  if (Array.isArray(value)) {
    return 'a list';
  }
  if (typeof value === 'object') {
    return 'a mapping';
  }
  return `${typeof value} ${String(value)}`;
}

function located(code: ManifestCode, segments: readonly Segment[], message: string): LocatedProblem {
  const path = formatPath(segments);
  return { problem: path === '' ? { code, message } : { code, path, message }, segments };
}

/** `spec.inputs[0].dataset`; keys that are not identifiers are bracketed (`metadata.labels["app.io/name"]`). */
function formatPath(segments: readonly (string | number)[]): string {
  return segments.reduce<string>((path, segment) => {
    if (typeof segment === 'number') {
      return `${path}[${segment}]`;
    }
    if (/^[A-Za-z_][A-Za-z0-9_-]*$/u.test(segment)) {
      return path === '' ? segment : `${path}.${segment}`;
    }
    return `${path}[${JSON.stringify(segment)}]`;
  }, '');
}

function isManifestCode(value: unknown): value is ManifestCode {
  return typeof value === 'string' && Object.hasOwn(manifestCodes, value);
}

function fieldOf(data: unknown, key: string): unknown {
  return typeof data === 'object' && data !== null && !Array.isArray(data)
    ? Object.getOwnPropertyDescriptor(data, key)?.value
    : undefined;
}

/** The source offset of the deepest node on `path` that exists, so a missing field points at its parent. */
function offsetOf(document: Document.Parsed, path: readonly Segment[]): number | undefined {
  let node: unknown = document.contents;
  let offset = rangeStart(node);
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isScalar(item.key) && String(item.key.value) === String(segment),
      );
      if (pair === undefined) {
        break;
      }
      offset = rangeStart(pair.key) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
      offset = rangeStart(node) ?? offset;
    } else {
      break;
    }
  }
  return offset;
}

/** Nothing but `---` and comments: YAML reads it as a null scalar with no source text. */
function isEmptyDocument(document: Document.Parsed): boolean {
  const { contents } = document;
  return contents === null || (isScalar(contents) && contents.value === null && contents.source === '');
}

function rangeStart(node: unknown): number | undefined {
  return isNode(node) ? node.range?.[0] : undefined;
}
