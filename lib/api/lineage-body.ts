import { maxLineageBatchEvents } from '../contracts/api/lineage-limits.js';
import { maxEventNesting, tooDeepTextPath } from '../contracts/openlineage/limits.js';
import { type NormalizedLineageEvent, parseLineageEvent } from '../contracts/openlineage/parse.js';
import type { Problem } from '../contracts/problem.js';
import { PayloadTooLargeError, ValidationError } from '../domain/errors.js';
import { UnsupportedMediaTypeError } from './errors.js';
import { type HttpRequest, readBody } from './request.js';

// The ingestion endpoints read their bodies themselves instead of through a route body schema: the
// OpenLineage parser is as lenient as Marquez and refuses with OL_* codes naming the field.

function isJson(contentType: string | undefined): boolean {
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return (
    mediaType === '' ||
    mediaType === 'application/json' ||
    mediaType.endsWith('+json') ||
    mediaType === 'text/json'
  );
}

function bodyText(request: HttpRequest, maxBytes: number): string {
  if (!isJson(request.headers['content-type'])) {
    throw new UnsupportedMediaTypeError(
      'UNSUPPORTED_MEDIA_TYPE',
      'Send the OpenLineage event as application/json (optionally Content-Encoding: gzip).',
    );
  }
  return readBody(request.event, request.headers, maxBytes).toString('utf8');
}

function refuse(problems: readonly Problem[], maxBytes: number): never {
  const first = problems[0];
  if (first?.code === 'OL_TOO_LARGE') {
    throw new PayloadTooLargeError(
      'OL_TOO_LARGE',
      `The lineage event is over the limit of ${maxBytes} bytes.`,
    );
  }
  const fields = problems.map((problem) => problem.path ?? problem.message).join(', ');
  throw new ValidationError(first?.code ?? 'OL_INVALID_FIELD', `The lineage event was refused: ${fields}.`, {
    problems,
  });
}

/** The one event of `POST /api/v1/lineage`, or a 400/413/415 naming what is wrong. */
export function readLineageEvent(request: HttpRequest, maxBytes: number): NormalizedLineageEvent {
  const parsed = parseLineageEvent(bodyText(request, maxBytes), { maxBytes });
  if (!parsed.ok) refuse(parsed.problems, maxBytes);
  return parsed.event;
}

/**
 * The events of `POST /api/v1/lineage/batch`: a JSON array or `{"events": [...]}`, at most
 * `maxLineageBatchEvents`. Every event is checked before any is stored, so a batch is refused whole.
 */
export function readLineageBatch(request: HttpRequest, maxBytes: number): NormalizedLineageEvent[] {
  const text = bodyText(request, maxBytes);
  // Spares the parser megabytes of `[[[[…`: the events sit one level down in an array, two in
  // `{"events": [...]}`, and a path names the event by its index, as the checks of parsed events do.
  const wrapped = text.trimStart().startsWith('{');
  const tooDeep = tooDeepTextPath(text, maxEventNesting + (wrapped ? 2 : 1));
  if (tooDeep !== undefined) {
    const path = wrapped ? tooDeep.replace(/^events(?=\[)/, '') : tooDeep;
    refuse(
      [{ code: 'OL_TOO_DEEP', path, message: `${path}: nested more than ${maxEventNesting} levels deep` }],
      maxBytes,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    refuse([{ code: 'OL_NOT_JSON', message: 'The batch is not valid JSON.' }], maxBytes);
  }
  const list = Array.isArray(json)
    ? json
    : typeof json === 'object' && json !== null && 'events' in json
      ? json.events
      : undefined;
  if (!Array.isArray(list)) {
    refuse(
      [
        {
          code: 'OL_INVALID_FIELD',
          path: 'events',
          message: 'A batch is a JSON array of events or {"events": [...]}.',
        },
      ],
      maxBytes,
    );
  }
  if (list.length > maxLineageBatchEvents) {
    throw new PayloadTooLargeError(
      'LINEAGE_BATCH_TOO_LARGE',
      `A batch holds at most ${maxLineageBatchEvents} events; this one has ${list.length}.`,
    );
  }
  const events: NormalizedLineageEvent[] = [];
  const problems: Problem[] = [];
  list.forEach((value: unknown, index: number) => {
    const parsed = parseLineageEvent(value);
    if (parsed.ok) events.push(parsed.event);
    else {
      for (const problem of parsed.problems) {
        problems.push({
          ...problem,
          path: `[${index}]${problem.path === undefined ? '' : `.${problem.path}`}`,
        });
      }
    }
  });
  if (problems.length > 0) refuse(problems, maxBytes);
  return events;
}
