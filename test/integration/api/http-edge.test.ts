import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedControlPlane, startEmbeddedControlPlane } from '../../../lambdas/embedded.js';
import { routeList } from '../../../lib/api/routes.js';
import { type RawResponse, sendRaw } from '../../support/raw-http.js';

// What the embedded server answers to requests an HTTP client would never send: targets `new URL`
// rejects, what Node's own parser refuses, and names that collide with Object.prototype. Sent as raw
// bytes so nothing between the test and the server repairs them.

let plane: EmbeddedControlPlane;
let port: number;

beforeAll(async () => {
  plane = await startEmbeddedControlPlane({ port: 0, logLevel: 'SILENT' });
  port = Number(new URL(plane.url).port);
});
afterAll(async () => {
  await plane?.close();
});

function send(raw: string, options: { halfClose?: boolean } = {}): Promise<RawResponse | undefined> {
  return sendRaw(port, Buffer.from(raw, 'utf8'), options);
}

const get = (target: string, headers = '') =>
  `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}Connection: close\r\n\r\n`;

interface Problem {
  readonly status: number;
  readonly code: string;
  readonly errors?: readonly { readonly code: string; readonly path?: string }[];
}

/** The problem+json body of an answer, checked to agree with its status line. */
function problemOf(response: RawResponse | undefined): Problem {
  expect(response, 'an answer').toBeDefined();
  expect(response?.headers.get('content-type')).toBe('application/problem+json');
  const problem: Problem = JSON.parse(response?.body.toString('utf8') ?? '');
  expect(problem.status).toBe(response?.status);
  return problem;
}

async function expectAlive(): Promise<void> {
  expect((await fetch(`${plane.url}/healthz`)).status).toBe(200);
}

describe('the embedded HTTP server at the edge', () => {
  it.each([
    'http://[',
    'http://[::1',
    'http://',
    'http://:80/',
    'http://a:b/',
    'http://x:99999/',
    'https://[x]/',
    'http://%zz/',
    'http://1.2.3.4.5/',
    'http://0x100000000/',
    'http://[1:2:3]/',
    'http://256.256.256.256/',
    'ftp://127.0.0.1/healthz',
    'a:',
    '*',
  ])(
    'answers the request target %s with 400 MALFORMED_REQUEST naming the target, and keeps serving',
    async (target) => {
      const response = await send(get(target));

      expect(response?.status).toBe(400);
      expect(problemOf(response)).toMatchObject({
        code: 'MALFORMED_REQUEST',
        errors: [{ code: 'MALFORMED_REQUEST', path: 'target' }],
      });
      await expectAlive();
    },
  );

  it('reads a target starting with // as a path, not as a host', async () => {
    for (const target of ['//', '//[', '///', '//v1/nothing']) {
      expect(problemOf(await send(get(target))), target).toMatchObject({ code: 'ROUTE_NOT_FOUND' });
    }
    expect((await send(get('//healthz')))?.status).toBe(200);
  });

  it('serves an absolute-form target by its path', async () => {
    expect((await send(get('http://127.0.0.1/healthz')))?.status).toBe(200);
  });

  it.each([
    [
      'a method Node does not know',
      'FOO / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      400,
      'MALFORMED_REQUEST',
    ],
    [
      'a lower-case method',
      'get /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      400,
      'MALFORMED_REQUEST',
    ],
    ['an HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 400, 'MALFORMED_REQUEST'],
    [
      'an unknown HTTP version',
      'GET /healthz HTTP/3.0\r\nHost: x\r\nConnection: close\r\n\r\n',
      400,
      'MALFORMED_REQUEST',
    ],
    ['a request line over 16 KiB', get(`/${'a'.repeat(20_000)}`), 431, 'HEADERS_TOO_LARGE'],
    ['headers over 16 KiB', get('/healthz', `X-Big: ${'a'.repeat(20_000)}\r\n`), 431, 'HEADERS_TOO_LARGE'],
    ['a control character in a header value', get('/healthz', 'X-A: a\u0001b\r\n'), 400, 'MALFORMED_REQUEST'],
    ['a space in a header name', get('/healthz', 'X A: b\r\n'), 400, 'MALFORMED_REQUEST'],
    [
      'a Content-Length that is not a number',
      'POST /v1/registrations HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\nConnection: close\r\n\r\n',
      400,
      'MALFORMED_REQUEST',
    ],
    [
      'a chunk size that is not hexadecimal',
      'POST /v1/registrations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nabc\r\n0\r\n\r\n',
      400,
      'MALFORMED_REQUEST',
    ],
    ['bytes that are not HTTP', '\u0000\u0001\u0002garbage\r\n\r\n', 400, 'MALFORMED_REQUEST'],
    ['HTTP/1.1 without Host', 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n', 400, 'MALFORMED_REQUEST'],
    ['an Expect other than 100-continue', get('/healthz', 'Expect: tea\r\n'), 417, 'EXPECTATION_FAILED'],
    [
      'CONNECT to a path the API serves',
      'CONNECT /healthz HTTP/1.1\r\nHost: x\r\n\r\n',
      405,
      'METHOD_NOT_ALLOWED',
    ],
    [
      'CONNECT to a host',
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
      404,
      'ROUTE_NOT_FOUND',
    ],
  ])('answers %s as problem+json with its status and code', async (_name, raw, status, code) => {
    const response = await send(raw);

    expect(response?.status).toBe(status);
    expect(problemOf(response)).toMatchObject({ code });
    await expectAlive();
  });

  it('answers a body the client cut short with 400 naming the body', async () => {
    const response = await send(
      'POST /v1/registrations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"refer',
      { halfClose: true },
    );

    expect(response?.status).toBe(400);
    expect(problemOf(response)).toMatchObject({ code: 'MALFORMED_REQUEST', errors: [{ path: 'body' }] });
  });

  it('answers a malformed request pipelined after a good one once the good one is answered', async () => {
    const received = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
      });
      socket.on('close', () => resolve(text));
      socket.on('error', () => undefined);
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nFOO / HTTP/1.1\r\nHost: x\r\n\r\n');
    });

    const statuses = [...received.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => match[1]);
    expect(statuses).toEqual(['200', '400']);
    expect(received).toContain('"code":"MALFORMED_REQUEST"');
  });

  it('answers a request whose body is over the limit with 413 instead of dropping the connection', async () => {
    const body = 'x'.repeat(11 * 1024 * 1024);
    const response = await fetch(`${plane.url}/v1/registrations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });

    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    await expectAlive();
  });

  describe.each(['__proto__', 'constructor', 'toString'])('a name %s', (name) => {
    const targets = routeList.map((route) => ({
      route,
      path: route.path.replace(/\{[^}]+\}/g, 'x'),
    }));

    it('as a query parameter is 400 RESERVED_NAME naming it, on every route', async () => {
      for (const { route, path } of targets) {
        const response = await fetch(`${plane.url}${path}?${name}=1`, { method: route.method });
        expect(response.status, `${route.method} ${route.path}`).toBe(400);
        expect(await response.json()).toMatchObject({
          code: 'RESERVED_NAME',
          errors: [{ path: `query.${name}` }],
        });
      }
    });

    it('as a header is 400 RESERVED_NAME naming it, on every route', async () => {
      for (const { route, path } of targets) {
        const response = await send(
          `${route.method} ${path} HTTP/1.1\r\nHost: x\r\n${name}: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
        );
        expect(response?.status, `${route.method} ${route.path}`).toBe(400);
        expect(problemOf(response)).toMatchObject({
          code: 'RESERVED_NAME',
          errors: [{ path: `headers.${name.toLowerCase()}` }],
        });
      }
    });
  });
});
