import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { keys } from '../../lib/adapters/dynamodb/keys.js';
import { routeList } from '../../lib/api/routes.js';
import {
  type ControlPlaneProcess,
  freePort,
  startControlPlaneProcess,
} from '../support/control-plane-process.js';
import { runEvent } from '../support/lineage.js';
import { type RawResponse, sendRaw } from '../support/raw-http.js';

// 10 000 generated requests, sent byte for byte over raw sockets (an HTTP client would refuse or repair
// most of them), against `npm start`. Whatever the method, target, headers or body, every request gets
// an answer; no answer is a 5xx except a 503 for a registry that cannot be reached; every error is
// problem+json with a `code`; and the process is still serving afterwards. The seed is fixed so a run is
// repeatable; FUZZ_SEED=<n> (and FUZZ_RUNS=<n>) explore others.

const seed = Number(process.env.FUZZ_SEED ?? 20_260_701);
const runs = Number(process.env.FUZZ_RUNS ?? 10_000);
const connections = 4;

/** The only 5xx a caller can cause: the registry named by a registration cannot be reached. */
const documented503 = new Set(['DK_REGISTRY_UNAVAILABLE']);

interface FuzzRequest {
  readonly method: string;
  readonly target: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly contentType: string | undefined;
  readonly encoding: string | undefined;
  /** The bytes, or the size of a large JSON array built when sent (10 000 of them would not fit). */
  readonly body: Buffer | number;
  readonly framing: 'content-length' | 'chunked' | 'bad-content-length' | 'truncated' | 'none';
}

let dataDir: string;
let plane: ControlPlaneProcess;
let closedPort: number;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'datakit-e2e-fuzz-'));
  plane = await startControlPlaneProcess(dataDir);
  closedPort = await freePort();
});
afterAll(async () => {
  await plane?.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

// --- generators -------------------------------------------------------------------------------------

const reservedNames = ['__proto__', 'constructor', 'toString', 'prototype', 'hasOwnProperty', 'valueOf'];

/** A method other than the route's: standard, unknown to Node's parser, or not a token at all. */
const otherMethodArb = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE'),
  },
  {
    weight: 4,
    arbitrary: fc.constantFrom('FOO', 'get', 'post', 'Get', 'PROPFIND', 'M-SEARCH', 'CONNECT', 'PRI'),
  },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z!#$%&'*+.^_`|~-]{1,12}$/) },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 10 }) },
);

/** Long enough to pass key and schema limits; now and then over Node's 16 KiB of request line and headers. */
const longText = fc
  .tuple(
    fc.constantFrom('a', '%', 'é', '0', '/', '\u0000'),
    fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 200, max: 3000 }) }, fc.constant(17_000)),
  )
  .map(([char, count]) => char.repeat(count));

const textArb = fc.oneof(
  { weight: 12, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 6, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 6, arbitrary: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/) },
  {
    weight: 4,
    arbitrary: fc.constantFrom('', '.', '..', '%', '%zz', '%2F', '%00', '~', '#', '?', '\\', '*'),
  },
  { weight: 1, arbitrary: longText },
);

const dateArb = fc.oneof(
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
  fc.constantFrom(
    '+275760-09-13T00:00:00Z',
    '+275760-09-13T00:00:00.001Z',
    '-000001-01-01T00:00:00Z',
    '+999999-01-01T00:00:00Z',
    '0000-01-01T00:00:00Z',
    '9999-12-31T23:59:59Z',
    '2024-02-30T00:00:00Z',
    '2024-01-01',
    'yesterday',
  ),
);

const keyNameArb = fc.constantFrom(
  'PK',
  'SK',
  'GSI1PK',
  'GSI1SK',
  'GSI2PK',
  'GSI2SK',
  'GSI3PK',
  'X',
  '__proto__',
);
const keyValueArb = fc.oneof(
  fc.constantFrom(
    keys.packagesIndex.pk,
    keys.registrationsIndex.pk,
    keys.datasetsIndex.pk,
    keys.lineageRawEventsIndex.pk,
    '',
  ),
  textArb,
  fc.integer(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 2 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }),
);
const cursorArb = fc.oneof(
  fc
    .dictionary(keyNameArb, keyValueArb, { maxKeys: 5 })
    .map((key) => Buffer.from(JSON.stringify(key)).toString('base64url')),
  fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value) ?? '').toString('base64url')),
  fc.uint8Array({ maxLength: 60 }).map((bytes) => Buffer.from(bytes).toString('base64')),
  textArb,
);

const referenceArb = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('127.0.0.1', 'localhost', '[::1]'),
      fc.stringMatching(/^[a-z0-9]+(\/[a-z0-9]+)?$/),
      fc.stringMatching(/^v?\d\.\d\.\d$/),
    )
    // A closed port (503), or the control plane itself, which is no registry (its 404s reject the artifact).
    .chain(([host, repository, tag]) =>
      fc
        .constantFrom(closedPort, Number(new URL(plane.url).port))
        .map((port) => `${host}:${port}/${repository}:${tag}`),
    ),
  fc.constantFrom('registry.example.com/team/pkg:1.0.0', 'ghcr.io/x/y:1', '169.254.169.254/latest:1'),
  textArb,
);

const valueArb = fc.oneof(
  textArb,
  fc.integer().map(String),
  fc.double().map(String),
  fc.constantFrom('true', 'false', 'asc', 'desc', 'job', 'dataset', 'json', 'mermaid', 'dot', 'registered'),
  fc.constantFrom('1e400', '-1', '0', '101', '0x10', ' 5 ', 'NaN', 'Infinity'),
  dateArb,
  cursorArb,
  fc.constantFrom('job:ns:name', 'dataset:postgres://h:5432:db.t', 'datasetField:a:b:c', 'x=y', 'a/b'),
);

const queryNameArb = (route: (typeof routeList)[number] | undefined) =>
  fc.oneof(
    {
      weight: 16,
      arbitrary: fc.constantFrom(
        ...(route?.query instanceof z.ZodObject ? Object.keys(route.query.shape) : ['limit']),
        'cursor',
      ),
    },
    { weight: 1, arbitrary: fc.constantFrom(...reservedNames) },
    { weight: 3, arbitrary: textArb },
  );

const encodeArb = (text: string) =>
  fc.oneof(
    { weight: 40, arbitrary: fc.constant(encodeURIComponent(text)) },
    { weight: 1, arbitrary: fc.constant(text) },
  );

/** A request line for a route of the route table: mostly its own method, its parameters filled at random. */
const routeLineArb = fc.constantFrom(...routeList).chain((route) =>
  fc
    .tuple(
      fc.oneof({ weight: 5, arbitrary: fc.constant(route.method) }, { weight: 1, arbitrary: otherMethodArb }),
      fc.array(textArb.chain(encodeArb), { minLength: 3, maxLength: 3 }),
      fc.array(fc.tuple(queryNameArb(route), valueArb), { maxLength: 5 }),
      fc.array(
        fc.tuple(queryNameArb(route), valueArb).chain(([name, value]) => encodeArb(`${name}=${value}`)),
        { maxLength: 1 },
      ),
    )
    .map(([method, values, query, raw]) => {
      let index = 0;
      const path = route.path.replace(/\{[^}]+\}/g, () => values[index++] ?? 'x');
      const pairs = [
        ...query.map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`),
        ...raw,
      ];
      return { method, target: pairs.length === 0 ? path : `${path}?${pairs.join('&')}` };
    }),
);

/** Targets no route serves, or that are not paths at all. */
const strayTargetArb = fc.oneof(
  fc.constantFrom(
    'http://[',
    'http://[::1',
    '//',
    '///',
    '//[',
    'http://',
    'http://:80/',
    'http://a:b/',
    'http://x:99999/',
    'https://127.0.0.1/healthz',
    'http://127.0.0.1/v1/packages?limit=1',
    '*',
    '/%',
    '/%zz',
    '/healthz#frag',
    'a:',
    'example.com:443',
    '/local/registry-events',
  ),
  textArb.map((text) => `/${text}`),
  textArb,
);

const requestLineArb = fc.oneof(
  { weight: 16, arbitrary: routeLineArb },
  { weight: 2, arbitrary: fc.record({ method: otherMethodArb, target: strayTargetArb }) },
);

const headerArb = fc.oneof(
  {
    weight: 20,
    arbitrary: fc.tuple(
      fc.oneof(
        fc.constantFrom('accept', 'user-agent', 'x-forwarded-for', 'authorization', 'x-amz-date'),
        fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,30}$/),
      ),
      fc.string({ maxLength: 40 }),
    ),
  },
  {
    weight: 2,
    arbitrary: fc.tuple(
      fc.constantFrom(...reservedNames, '__PROTO__', 'Constructor'),
      fc.string({ maxLength: 10 }),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(
      fc.constantFrom('expect', 'upgrade', 'connection', 'transfer-encoding', 'content-length'),
      fc.constantFrom('100-continue', 'tea', 'websocket', 'upgrade', 'chunked', 'gzip', '-1', '1e3'),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(
      fc.oneof(fc.string({ minLength: 1, maxLength: 10 }), longText),
      fc.oneof(fc.string(), longText),
    ),
  },
);

const registrationJsonArb = referenceArb.map((reference) => JSON.stringify({ reference }));
const lineageJsonArb = fc
  .oneof(
    fc
      .record({ runId: fc.uuid(), eventTime: dateArb, namespace: textArb, name: textArb })
      .map(({ runId, eventTime, namespace, name }) =>
        runEvent({ runId, eventTime, job: { namespace, name } }),
      ),
    fc.array(fc.jsonValue(), { maxLength: 3 }).map((events) => ({ events })),
  )
  .map((value) => JSON.stringify(value));
const anyJsonArb = fc.jsonValue().map((value) => JSON.stringify(value) ?? 'null');

/** JSON bodies, mostly of the kind the target's route reads. */
function jsonFor(target: string): fc.Arbitrary<string> {
  const own = target.startsWith('/v1/registrations')
    ? registrationJsonArb
    : target.startsWith('/api/v1/lineage')
      ? lineageJsonArb
      : anyJsonArb;
  return fc.oneof({ weight: 3, arbitrary: own }, anyJsonArb, registrationJsonArb, lineageJsonArb);
}

const bodyFor = (target: string): fc.Arbitrary<Buffer | number> => {
  const jsonArb = jsonFor(target);
  return fc.oneof(
    { weight: 60, arbitrary: fc.constant(Buffer.alloc(0)) },
    { weight: 100, arbitrary: jsonArb.map((text) => Buffer.from(text)) },
    {
      weight: 20,
      arbitrary: jsonArb.chain((text) =>
        fc.nat({ max: Math.max(0, text.length - 1) }).map((end) => Buffer.from(text.slice(0, end))),
      ),
    },
    { weight: 20, arbitrary: fc.uint8Array({ maxLength: 2000 }).map((bytes) => Buffer.from(bytes)) },
    { weight: 1, arbitrary: fc.integer({ min: 100_000, max: 1_500_000 }) },
  );
};

const encodingArb = fc.oneof(
  { weight: 12, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.constantFrom('gzip', 'deflate', 'br') },
  {
    weight: 1,
    arbitrary: fc.constantFrom('gzip-header-only', 'gzip-label-only', 'identity', 'x-garbage', 'GZIP'),
  },
);
const contentTypeArb = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      undefined,
      'text/plain',
      'application/octet-stream',
      'application/x-www-form-urlencoded',
      'application/json; charset=utf-16',
      'multipart/form-data; boundary=x',
      'application/vnd.oci.image.manifest.v1+json',
      ';;;',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
);

function encode(body: Buffer, encoding: string | undefined): { body: Buffer; header?: string } {
  switch (encoding) {
    case undefined:
      return { body };
    case 'gzip':
    case 'GZIP':
      return { body: gzipSync(body), header: encoding };
    case 'deflate':
      return { body: deflateSync(body), header: 'deflate' };
    case 'br':
      return { body: brotliCompressSync(body), header: 'br' };
    case 'gzip-header-only':
      return { body: Buffer.concat([Buffer.from([0x1f, 0x8b]), body]), header: 'gzip' };
    case 'gzip-label-only':
      return { body, header: 'gzip' };
    default:
      return { body, header: encoding };
  }
}

const requestArb: fc.Arbitrary<FuzzRequest> = requestLineArb.chain((line) =>
  fc.record({
    method: fc.constant(line.method),
    target: fc.constant(line.target),
    headers: fc.array(headerArb, { maxLength: 4 }),
    contentType: contentTypeArb,
    encoding: encodingArb,
    body: bodyFor(line.target),
    framing: fc.oneof(
      { weight: 20, arbitrary: fc.constant('content-length' as const) },
      { weight: 2, arbitrary: fc.constant('chunked' as const) },
      {
        weight: 1,
        arbitrary: fc.constantFrom('bad-content-length' as const, 'truncated' as const, 'none' as const),
      },
    ),
  }),
);

// --- the wire -----------------------------------------------------------------------------------------

function serialize(request: FuzzRequest): Buffer {
  const plain =
    typeof request.body === 'number'
      ? Buffer.from(`[${'1,'.repeat(Math.floor(request.body / 2))}1]`)
      : request.body;
  const encoded = encode(plain, request.encoding);
  const lines = [`${request.method} ${request.target} HTTP/1.1`, 'Host: 127.0.0.1'];
  if (request.contentType !== undefined) lines.push(`content-type: ${request.contentType}`);
  if (encoded.header !== undefined) lines.push(`content-encoding: ${encoded.header}`);
  for (const [name, value] of request.headers) lines.push(`${name}: ${value}`);
  lines.push('Connection: close');
  let body = encoded.body;
  switch (request.framing) {
    case 'content-length':
      lines.push(`Content-Length: ${body.length}`);
      break;
    case 'chunked': {
      lines.push('Transfer-Encoding: chunked');
      const half = Math.floor(body.length / 2);
      const chunks = [body.subarray(0, half), body.subarray(half)].filter((chunk) => chunk.length > 0);
      body = Buffer.concat([
        ...chunks.flatMap((chunk) => [
          Buffer.from(`${chunk.length.toString(16)}\r\n`),
          chunk,
          Buffer.from('\r\n'),
        ]),
        Buffer.from('0\r\n\r\n'),
      ]);
      break;
    }
    case 'bad-content-length':
      lines.push(`Content-Length: ${body.length}`, `Content-Length: ${body.length + 1}x`);
      break;
    case 'truncated':
      lines.push(`Content-Length: ${body.length + 10}`);
      break;
    case 'none':
      break;
  }
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), body]);
}

function describeRequest(request: FuzzRequest): string {
  const clip = (text: string) => (text.length > 160 ? `${text.slice(0, 160)}…(${text.length})` : text);
  return JSON.stringify({
    method: request.method,
    target: clip(request.target),
    headers: request.headers.map(([name, value]) => [clip(name), clip(value)]),
    framing: request.framing,
    contentType: request.contentType,
    encoding: request.encoding,
    body:
      typeof request.body === 'number'
        ? `${request.body} bytes of JSON`
        : clip(request.body.toString('latin1')),
  });
}

/** `code` and the first `errors[].path` of a problem body ('' when there is none). */
function codeOf(response: RawResponse | undefined): string {
  const body = response === undefined ? undefined : jsonOf(response);
  if (typeof body !== 'object' || body === null || !('code' in body)) return '';
  const first = 'errors' in body && Array.isArray(body.errors) ? body.errors[0] : undefined;
  const path = typeof first === 'object' && first !== null && 'path' in first ? ` ${first.path}` : '';
  return `${String(body.code)}${path}`;
}

function jsonOf(response: RawResponse): unknown {
  try {
    return JSON.parse(response.body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** A registration refused as 409/422 answers with its record (docs/api.md, Registry), not a problem. */
function isRejectedRegistration(request: FuzzRequest, response: RawResponse): boolean {
  const body = jsonOf(response);
  return (
    request.method === 'POST' &&
    request.target.startsWith('/v1/registrations') &&
    (response.status === 409 || response.status === 422) &&
    response.headers.get('content-type') === 'application/json' &&
    typeof body === 'object' &&
    body !== null &&
    'status' in body &&
    body.status === 'rejected' &&
    'problems' in body &&
    Array.isArray(body.problems) &&
    body.problems.length > 0
  );
}

/** Why this answer breaks the contract, or undefined when it keeps it. */
function violation(request: FuzzRequest, response: RawResponse | undefined): string | undefined {
  if (response === undefined) return 'no response';
  const { status } = response;
  if (status < 400 || isRejectedRegistration(request, response)) return undefined;
  // The answer to HEAD has no body to check.
  if (request.method === 'HEAD') return status >= 500 && status !== 503 ? `${status} to HEAD` : undefined;
  const contentType = response.headers.get('content-type') ?? '';
  if (!contentType.startsWith('application/problem+json'))
    return `${status} with content-type "${contentType}"`;
  const problem = jsonOf(response);
  if (typeof problem !== 'object' || problem === null) {
    return `${status} with a body that is not a JSON object: ${response.body.toString('latin1').slice(0, 200)}`;
  }
  const code = 'code' in problem ? problem.code : undefined;
  if (typeof code !== 'string' || code === '')
    return `${status} without a code: ${response.body.toString('utf8')}`;
  if (!('status' in problem) || problem.status !== status) return `${status} whose body says another status`;
  if (status >= 500 && !(status === 503 && documented503.has(code))) return `${status} ${code}`;
  return undefined;
}

describe('npm start under 10 000 fuzzed requests', () => {
  it('answers every request, never with an undocumented 5xx or an error without a problem+json code, and stays up', async () => {
    const requests = fc.sample(requestArb, { seed, numRuns: runs });
    const port = Number(new URL(plane.url).port);
    const failures: string[] = [];
    const answers = new Map<string, number>();
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: connections }, async () => {
        for (let index = next++; index < requests.length; index = next++) {
          const request = requests[index];
          if (request === undefined) continue;
          const response = await sendRaw(port, serialize(request), {
            halfClose: request.framing === 'truncated',
            head: request.method === 'HEAD',
          });
          const answer = `${response?.status ?? 'none'} ${codeOf(response)}`;
          answers.set(answer, (answers.get(answer) ?? 0) + 1);
          const broken = violation(request, response);
          if (broken !== undefined) failures.push(`#${index} ${broken}: ${describeRequest(request)}`);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const health = await fetch(`${plane.url}/healthz`).then(
      (response) => response.status,
      () => 0,
    );

    // FUZZ_SUMMARY=<file> writes how often each status, code and field came back: what the run reached.
    if (process.env.FUZZ_SUMMARY !== undefined) {
      const lines = [...answers].sort((a, b) => b[1] - a[1]).map(([answer, count]) => `${count}\t${answer}`);
      const rate = `${runs} requests in ${seconds.toFixed(1)} s (${Math.round(runs / seconds)}/s)`;
      writeFileSync(process.env.FUZZ_SUMMARY, `${rate}\n${lines.join('\n')}\n`);
    }
    if (failures.length > 0) {
      console.error(
        `http fuzz: ${failures.length} failures; replay with FUZZ_SEED=${seed} FUZZ_RUNS=${runs}`,
      );
    }
    expect(failures.slice(0, 20), `seed ${seed}: ${failures.length} of ${runs} failed`).toEqual([]);
    expect(plane.child.exitCode).toBeNull();
    expect(health).toBe(200);
  }, 240_000);
});
