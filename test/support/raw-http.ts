import { connect } from 'node:net';

/** One HTTP/1.1 response as read off the wire. */
export interface RawResponse {
  readonly status: number;
  /** Header names lower-cased; repeated headers joined with `, `. */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Buffer;
}

export interface RawRequestOptions {
  /** Close our side of the connection once the bytes are sent (a client that stops mid-body). */
  readonly halfClose?: boolean;
  /** The request is a HEAD: its response carries no body whatever Content-Length says. */
  readonly head?: boolean;
  /** @default 10 000 */
  readonly timeoutMs?: number;
}

/**
 * Sends bytes exactly as given over a fresh TCP connection (no HTTP client in between to fix them up)
 * and reads the first response: complete once Content-Length bytes of body have arrived, or when the
 * server closes the connection. `undefined` when no status line arrived before the connection closed
 * or the timeout passed.
 */
export function sendRaw(
  port: number,
  request: Buffer,
  options: RawRequestOptions = {},
): Promise<RawResponse | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (response: RawResponse | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(response);
    };
    const timer = setTimeout(
      () => finish(parseResponse(received, true, options.head)),
      options.timeoutMs ?? 10_000,
    );
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const response = parseResponse(received, false, options.head);
      if (response !== undefined) finish(response);
    });
    socket.on('close', () => finish(parseResponse(received, true, options.head)));
    // A server refusing the request may reset the connection while we still write; the answer (if any)
    // is in `received` and `close` follows.
    socket.on('error', () => undefined);
    socket.write(request, () => {
      if (options.halfClose === true) socket.end();
    });
  });
}

/** The response in `bytes` once it is complete (or, at the end of the stream, whatever arrived). */
function parseResponse(bytes: Buffer, ended: boolean, head = false): RawResponse | undefined {
  const headerEnd = bytes.indexOf('\r\n\r\n');
  if (headerEnd < 0) return undefined;
  const [statusLine = '', ...lines] = bytes.subarray(0, headerEnd).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1];
  if (status === undefined) return undefined;
  // An interim answer (100 Continue) precedes the response.
  if (status.startsWith('1')) return parseResponse(bytes.subarray(headerEnd + 4), ended, head);
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value);
  }
  const body = bytes.subarray(headerEnd + 4);
  const length = Number(headers.get('content-length') ?? Number.NaN);
  if (head || (Number.isInteger(length) && body.length >= length)) {
    return {
      status: Number(status),
      headers,
      body: head ? Buffer.alloc(0) : body.subarray(0, length),
    };
  }
  return ended ? { status: Number(status), headers, body } : undefined;
}
