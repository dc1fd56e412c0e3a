import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';

/** SHA-256 (or HMAC-SHA-256 with a secret) in the shape the SigV4 signer takes. */
type SourceData = string | ArrayBuffer | ArrayBufferView;

const bytesOf = (data: SourceData): string | Buffer =>
  typeof data === 'string'
    ? data
    : data instanceof ArrayBuffer
      ? Buffer.from(data)
      : Buffer.from(data.buffer, data.byteOffset, data.byteLength);

class NodeSha256 {
  private hash: Hash | Hmac;

  constructor(private readonly secret?: SourceData) {
    this.hash = NodeSha256.create(secret);
  }

  private static create(secret: SourceData | undefined): Hash | Hmac {
    return secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }

  update(data: SourceData): void {
    this.hash.update(bytesOf(data));
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }

  reset(): void {
    this.hash = NodeSha256.create(this.secret);
  }
}

export interface ClientOptions {
  /** The control plane: `npm start`'s URL, or a deployed API's invoke URL. */
  readonly baseUrl: string;
  /** Embedded mode: who the caller says it is (`x-datakit-principal`). */
  readonly principal?: string | undefined;
  /** Sign with SigV4 (execute-api) from the default credential chain; on for non-loopback https URLs. */
  readonly sign?: boolean | undefined;
  readonly region?: string | undefined;
}

export interface ApiAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
  readonly json: unknown;
}

/** Whether a URL points at this machine (the embedded control plane): no signing then. */
export function isLoopbackUrl(url: URL): boolean {
  return ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname) || url.hostname.startsWith('127.');
}

/**
 * Calls the control plane's API: plain HTTP to the embedded mode, SigV4-signed (API Gateway IAM auth)
 * with the usual AWS credentials chain to a deployed API.
 */
export class ControlPlaneClient {
  private readonly base: URL;
  private readonly signer: SignatureV4 | undefined;

  constructor(private readonly options: ClientOptions) {
    this.base = new URL(options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`);
    const sign = options.sign ?? (this.base.protocol === 'https:' && !isLoopbackUrl(this.base));
    const region =
      options.region ??
      process.env.AWS_REGION ??
      process.env.AWS_DEFAULT_REGION ??
      regionOfHost(this.base.hostname);
    this.signer = sign
      ? new SignatureV4({
          service: 'execute-api',
          region: region ?? 'us-east-1',
          credentials: defaultProvider(),
          sha256: NodeSha256,
        })
      : undefined;
  }

  async request(
    method: string,
    path: string,
    body?: unknown,
    headers: Readonly<Record<string, string>> = {},
  ): Promise<ApiAnswer> {
    const url = new URL(path.replace(/^\//, ''), this.base);
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const all: Record<string, string> = {
      host: url.host,
      accept: 'application/json',
      ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
      ...(this.options.principal === undefined ? {} : { 'x-datakit-principal': this.options.principal }),
      ...headers,
    };
    let sent = all;
    if (this.signer !== undefined) {
      const query: Record<string, string> = {};
      for (const [key, value] of url.searchParams) query[key] = value;
      const signed = await this.signer.sign({
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port === '' ? {} : { port: Number(url.port) }),
        path: url.pathname,
        query,
        headers: all,
        ...(payload === undefined ? {} : { body: payload }),
      });
      sent = signed.headers;
    }
    const { host: _host, ...fetchHeaders } = sent;
    const response = await fetch(url, {
      method,
      headers: fetchHeaders,
      ...(payload === undefined ? {} : { body: payload }),
    });
    const text = await response.text();
    const contentType = response.headers.get('content-type') ?? '';
    let json: unknown;
    if (contentType.includes('json') && text !== '') json = JSON.parse(text);
    return { status: response.status, contentType, text, json };
  }
}

function regionOfHost(hostname: string): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/u.exec(hostname)?.[1];
}
