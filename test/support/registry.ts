import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

const registryBinary = process.env.DOCKER_REGISTRY_BIN ?? '/usr/bin/docker-registry';

/** Options for {@link startRegistry}; the default is an anonymous, empty registry. */
export interface RegistryOptions {
  /** Docker distribution notification endpoint that receives push/pull events as JSON envelopes. */
  readonly notifications?: { readonly url: string; readonly name?: string };
}

/** A running registry on 127.0.0.1; `host` is what references use (`127.0.0.1:<port>`). */
export interface TestRegistry {
  readonly host: string;
  readonly url: string;
  /** Kills the process and removes its storage. */
  stop(): Promise<void>;
}

/** Starts Debian's docker-registry (distribution 2.8) with a throwaway config and storage. */
export async function startRegistry(options: RegistryOptions = {}): Promise<TestRegistry> {
  if (!existsSync(registryBinary)) {
    throw new Error(
      `${registryBinary} not found: install Debian's docker-registry package (apt-get install docker-registry) or set DOCKER_REGISTRY_BIN`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'dk-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = {
    version: 0.1,
    log: { level: 'error', accesslog: { disabled: true } },
    storage: {
      filesystem: { rootdirectory: join(dir, 'data') },
      delete: { enabled: true },
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: { addr: host, secret: randomBytes(16).toString('hex') },
    ...(options.notifications === undefined
      ? {}
      : {
          notifications: {
            endpoints: [
              {
                name: options.notifications.name ?? 'test-webhook',
                url: options.notifications.url,
                timeout: '2s',
                threshold: 3,
                backoff: '1s',
              },
            ],
          },
        }),
  };
  const configPath = join(dir, 'config.yml');
  await writeFile(configPath, stringify(config));

  const child = spawn(registryBinary, ['serve', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const url = `http://${host}`;
  const stop = async () => {
    await killAndWait(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilServing(`${url}/v2/`, child, () => stderr);
  } catch (error) {
    await stop();
    throw error;
  }
  return { host, url, stop };
}

/** How the gateway guards the registry: Basic credentials, or the Bearer token flow with its own token endpoint. */
export type GatewayAuth =
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  | {
      readonly kind: 'bearer';
      /** When set, the token endpoint requires these Basic credentials; otherwise it issues anonymous tokens. */
      readonly username?: string;
      readonly password?: string;
      /** Lifetime the token endpoint announces. @default 300 */
      readonly expiresInSeconds?: number;
    };

/** Options for {@link startGateway}. */
export interface GatewayOptions {
  /** The registry the gateway forwards to. */
  readonly upstream: TestRegistry;
  readonly auth?: GatewayAuth;
  /** Flips one byte of every blob (and, when asked, manifest) body it relays: a man-in-the-middle. */
  readonly tamper?: { readonly blobs?: boolean; readonly manifests?: boolean };
  /** Answers blob GETs with a 307 to a second origin serving the bytes, as ECR does with pre-signed S3 URLs. */
  readonly redirectBlobs?: boolean;
}

/** A gateway on 127.0.0.1 in front of a registry, counting what it saw. */
export interface TestGateway {
  readonly host: string;
  /** Token requests answered with a token. */
  readonly tokensIssued: () => number;
  /** Requests relayed to the registry. */
  readonly relayed: () => number;
  /** Authorization headers the redirect target received (it must receive none). */
  readonly redirectTargetAuthorizations: () => readonly string[];
  stop(): Promise<void>;
}

/**
 * Starts an HTTP gateway in front of a registry that enforces auth the way real registries do (401 with a
 * `WWW-Authenticate` challenge) or tampers with bodies. Basic auth lives here rather than in the registry's
 * htpasswd because that needs bcrypt hashes, which nothing installed here can produce.
 */
export async function startGateway(options: GatewayOptions): Promise<TestGateway> {
  let tokensIssued = 0;
  let relayed = 0;
  const grants = new Map<string, { scope: string; expiresAt: number }>();
  let gatewayHost = '';
  const redirected = new Map<string, Buffer>();
  const redirectAuthorizations: string[] = [];
  const blobStore = createServer((req, res) => {
    if (req.headers.authorization !== undefined) redirectAuthorizations.push(req.headers.authorization);
    const body = redirected.get(req.url ?? '');
    if (body === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
  });
  const blobStoreOrigin = `http://127.0.0.1:${await listen(blobStore)}`;

  const server = createServer((req, res) => {
    void (async () => {
      const path = req.url ?? '/';
      const auth = options.auth;
      if (auth?.kind === 'bearer' && path.startsWith('/token')) {
        const query = new URL(path, 'http://gateway').searchParams;
        if (auth.username !== undefined && !hasBasic(req, auth.username, auth.password ?? '')) {
          res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
          return;
        }
        const token = randomBytes(16).toString('hex');
        const expiresIn = auth.expiresInSeconds ?? 300;
        grants.set(token, { scope: query.get('scope') ?? '', expiresAt: Date.now() + expiresIn * 1000 });
        tokensIssued += 1;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ token, expires_in: expiresIn, issued_at: new Date().toISOString() }));
        return;
      }
      if (auth !== undefined && !authorised(req, auth, grants)) {
        res.writeHead(401, {
          'content-type': 'application/json',
          'www-authenticate': challengeFor(req, auth, gatewayHost),
        });
        res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
        return;
      }
      relayed += 1;
      if (options.redirectBlobs === true && req.method === 'GET' && /\/blobs\/sha256:/.test(path)) {
        const upstream = await fetch(`${options.upstream.url}${path}`);
        const key = `/presigned/${randomBytes(8).toString('hex')}`;
        redirected.set(key, Buffer.from(await upstream.arrayBuffer()));
        res.writeHead(307, { location: `${blobStoreOrigin}${key}` }).end();
        return;
      }
      await relay(req, res, options);
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(String(error));
    });
  });
  const port = await listen(server);
  gatewayHost = `127.0.0.1:${port}`;
  return {
    host: gatewayHost,
    tokensIssued: () => tokensIssued,
    relayed: () => relayed,
    redirectTargetAuthorizations: () => redirectAuthorizations,
    stop: async () => {
      await closeServer(server);
      await closeServer(blobStore);
    },
  };
}

/** A server that accepts connections and never answers: a registry that hangs. */
export async function startSilentServer(): Promise<{ host: string; stop(): Promise<void> }> {
  const server = createServer(() => undefined);
  const port = await listen(server);
  return {
    host: `127.0.0.1:${port}`,
    stop: async () => {
      server.closeAllConnections();
      await closeServer(server);
    },
  };
}

/** Collects JSON request bodies posted to it, e.g. registry notification envelopes. */
export async function startWebhookReceiver(): Promise<{
  url: string;
  bodies: () => readonly unknown[];
  stop(): Promise<void>;
}> {
  const bodies: unknown[] = [];
  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      try {
        bodies.push(JSON.parse(body.toString('utf8')));
      } catch {
        bodies.push(body.toString('utf8'));
      }
      res.writeHead(200).end();
    });
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}/events`, bodies: () => bodies, stop: () => closeServer(server) };
}

/** A 127.0.0.1 port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await closeServer(server);
  return port;
}

function hasBasic(req: IncomingMessage, username: string, password: string): boolean {
  const expected = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  return req.headers.authorization === expected;
}

function requiredScope(req: IncomingMessage): string | undefined {
  const match = /^\/v2\/(.+?)\/(?:manifests|blobs|tags)\//.exec(req.url ?? '');
  if (match?.[1] === undefined) return undefined;
  const write = req.method !== 'GET' && req.method !== 'HEAD';
  return `repository:${match[1]}:${write ? 'pull,push' : 'pull'}`;
}

function authorised(
  req: IncomingMessage,
  auth: GatewayAuth,
  grants: ReadonlyMap<string, { scope: string; expiresAt: number }>,
): boolean {
  if (auth.kind === 'basic') return hasBasic(req, auth.username, auth.password);
  const header = req.headers.authorization ?? '';
  if (!header.startsWith('Bearer ')) return false;
  const grant = grants.get(header.slice('Bearer '.length));
  if (grant === undefined || grant.expiresAt < Date.now()) return false;
  const needed = requiredScope(req);
  if (needed === undefined) return true;
  const [, repository, actions = ''] = /^repository:(.+):([a-z,]+)$/.exec(grant.scope) ?? [];
  const [, neededRepository, neededActions = ''] = /^repository:(.+):([a-z,]+)$/.exec(needed) ?? [];
  return (
    repository === neededRepository && neededActions.split(',').every((a) => actions.split(',').includes(a))
  );
}

function challengeFor(req: IncomingMessage, auth: GatewayAuth, gatewayHost: string): string {
  if (auth.kind === 'basic') return 'Basic realm="test-registry"';
  const scope = requiredScope(req);
  const scopeParam = scope === undefined ? '' : `,scope="${scope}"`;
  return `Bearer realm="http://${gatewayHost}/token",service="test-registry"${scopeParam}`;
}

async function relay(req: IncomingMessage, res: ServerResponse, options: GatewayOptions): Promise<void> {
  const body = await readBody(req);
  const upstream = new URL(options.upstream.url);
  const headers = { ...req.headers };
  delete headers.authorization;
  await new Promise<void>((resolve, reject) => {
    const outgoing = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
      (incoming) => {
        void readBody(incoming).then((payload) => {
          const path = req.url ?? '';
          const tamper =
            (options.tamper?.blobs === true && /\/blobs\/sha256:/.test(path)) ||
            (options.tamper?.manifests === true && /\/manifests\//.test(path));
          const relayedBody = tamper && payload.length > 0 ? flipLastByte(payload) : payload;
          res.writeHead(incoming.statusCode ?? 502, incoming.headers);
          res.end(relayedBody);
          resolve();
        }, reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

function flipLastByte(bytes: Buffer): Buffer {
  const copy = Buffer.from(bytes);
  const last = copy.length - 1;
  copy[last] = (copy[last] ?? 0) ^ 0xff;
  return copy;
}

async function readBody(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    if (Buffer.isBuffer(chunk)) chunks.push(chunk);
    else if (typeof chunk === 'string') chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
  return (address satisfies AddressInfo).port;
}

async function closeServer(server: Server): Promise<void> {
  server.closeIdleConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

async function waitUntilServing(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `docker-registry exited before serving (${child.exitCode ?? child.signalCode}): ${stderr()}`,
      );
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.body?.cancel();
      if (response.status === 200 || response.status === 401) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`docker-registry did not answer ${url} within 15 s: ${stderr()}`);
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
