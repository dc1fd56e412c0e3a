import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startEmbeddedControlPlane } from '../../../lambdas/embedded.js';
import { createRegistrationWorker } from '../../../lambdas/registration-worker/handler.js';
import {
  ConnectionPolicy,
  type ConnectionPolicyOptions,
  type HostResolver,
  systemResolver,
} from '../../../lib/adapters/oci/connection-policy.js';
import {
  DistributionClient,
  RegistryHostNotAllowedError,
  RegistryProtocolError,
} from '../../../lib/adapters/oci/distribution-client.js';
import type { ArtifactReference } from '../../../lib/domain/registry/reference.js';
import type { BlobDescriptor } from '../../../lib/ports/artifact-source.js';
import { buildDkArtifact, pushArtifact, pushDkArtifact } from '../../support/dk-artifact.js';
import { startRegistry, type TestRegistry } from '../../support/registry.js';
import { startRegistryPlane } from '../../support/registry-plane.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A local server on `address`, counting the requests it received. */
interface Local {
  /** `host:port` as a URL writes it (`[::1]:41234`). */
  readonly host: string;
  readonly port: number;
  readonly hits: () => number;
}

let registry: TestRegistry;
let manifestRef: ArtifactReference & { readonly digest: string };
let config: BlobDescriptor;
const servers: Server[] = [];

async function serve(address: string, handler: Handler): Promise<Local> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits += 1;
    handler(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, address, () => resolve());
  });
  const bound = server.address();
  if (bound === null || typeof bound === 'string') throw new Error('server has no TCP address');
  const { port } = bound satisfies AddressInfo;
  return { host: `${address.includes(':') ? `[${address}]` : address}:${port}`, port, hits: () => hits };
}

/** Relays reads to the real registry: object storage, a second registry front, a token-less mirror. */
const relay: Handler = (req, res) => {
  void fetch(`${registry.url}${req.url ?? '/'}`, {
    method: req.method ?? 'GET',
    headers: { accept: req.headers.accept ?? '*/*' },
  }).then(async (upstream) => {
    const headers: Record<string, string> = {};
    for (const name of ['content-type', 'docker-content-digest']) {
      const value = upstream.headers.get(name);
      if (value !== null) headers[name] = value;
    }
    res.writeHead(upstream.status, headers).end(Buffer.from(await upstream.arrayBuffer()));
  });
};

/** Answers every read with a 307 to the same path under `target` (an origin). */
const redirectTo =
  (target: () => string): Handler =>
  (req, res) => {
    res.writeHead(307, { location: `${target()}${req.url ?? '/'}` }).end();
  };

/** The system resolver, except for the names given (what /etc/hosts would do, without touching it). */
function resolverWith(names: Record<string, string>, asked: string[] = []): HostResolver {
  return async (hostname) => {
    asked.push(hostname);
    const address = names[hostname];
    return address === undefined
      ? systemResolver(hostname)
      : [{ address, family: address.includes(':') ? 6 : 4 }];
  };
}

function clientWith(options: ConnectionPolicyOptions): DistributionClient {
  return new DistributionClient({ policy: new ConnectionPolicy(options), timeoutMs: 5_000 });
}

async function refusalOf(read: Promise<unknown>): Promise<RegistryHostNotAllowedError> {
  const error = await read.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof RegistryHostNotAllowedError)) throw new Error(`not refused: ${String(error)}`);
  expect(error).toMatchObject({ code: 'REGISTRY_HOST_NOT_ALLOWED', retryable: false });
  return error;
}

beforeAll(async () => {
  registry = await startRegistry();
  const artifact = await buildDkArtifact({
    'dk.yaml': 'apiVersion: datakit.infoblox.dev/v1alpha1\nkind: Transform\nmetadata:\n  name: demo\n',
  });
  const pusher = new DistributionClient({ timeoutMs: 10_000 });
  for (const repository of ['team/policy', 'team/a', 'team/b']) {
    manifestRef = await pushArtifact(pusher, { registry: registry.host, repository }, '1.0.0', artifact);
  }
  const manifest = await pusher.getManifest({
    registry: registry.host,
    repository: 'team/policy',
    tag: '1.0.0',
  });
  config = z
    .object({ config: z.object({ mediaType: z.string(), digest: z.string(), size: z.number() }) })
    .parse(manifest.json).config;
});

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

afterAll(async () => {
  await registry?.stop();
});

const at = (front: Local, repository = 'team/policy'): ArtifactReference => ({
  registry: front.host,
  repository,
  digest: manifestRef.digest,
});

describe('redirects of manifest and blob reads', () => {
  it('follows a redirect to a blob host listed exactly, and reads the artifact there', async () => {
    const storage = await serve('127.0.0.2', relay);
    const front = await serve(
      '127.0.0.1',
      redirectTo(() => `http://${storage.host}`),
    );
    const client = clientWith({ registries: [front.host], blobHosts: [storage.host] });

    const manifest = await client.getManifest(at(front));
    const blob = await client.getBlob(at(front), config, { maxBytes: 1024 * 1024 });

    expect(manifest.digest).toBe(manifestRef.digest);
    expect(blob.length).toBe(config.size);
    expect(storage.hits()).toBe(2);
  });

  it.each([
    [
      'another loopback address',
      '127.0.0.2',
      (port: number) => `http://127.0.0.2:${port}`,
      {},
      /neither on the registry allowlist/,
    ],
    [
      'the IPv6 loopback address',
      '::1',
      (port: number) => `http://[::1]:${port}`,
      {},
      /neither on the registry allowlist/,
    ],
    [
      'localhost on another port',
      '127.0.0.1',
      (port: number) => `http://localhost:${port}`,
      {},
      /neither on the registry allowlist/,
    ],
    [
      'the same host on another port',
      '127.0.0.1',
      (port: number) => `http://127.0.0.1:${port}`,
      {},
      /neither on the registry allowlist/,
    ],
    [
      'a *.suffix blob host whose name resolves to loopback',
      '127.0.0.1',
      (port: number) => `https://eu.blobs.test:${port}`,
      { blobHosts: ['*.blobs.test'] },
      /resolves to 127\.0\.0\.1 \(loopback\)/,
    ],
    [
      'a blob host listed exactly, over plain http',
      '127.0.0.1',
      (port: number) => `http://blobs.test:${port}`,
      { blobHosts: ['blobs.test'] },
      /plain http is used only for loopback hosts and REGISTRY_INSECURE_HOSTS/,
    ],
  ] as const)(
    'refuses a redirect to %s; the target never hears of it',
    async (_name, address, target, lists, reason) => {
      const stray = await serve(address, relay);
      const front = await serve(
        '127.0.0.1',
        redirectTo(() => target(stray.port)),
      );
      const client = clientWith({
        registries: [front.host],
        resolve: resolverWith({ 'eu.blobs.test': '127.0.0.1', 'blobs.test': '127.0.0.1' }),
        ...lists,
      });

      const manifestRefusal = await refusalOf(client.getManifest(at(front)));
      const blobRefusal = await refusalOf(client.getBlob(at(front), config, { maxBytes: 1024 * 1024 }));

      expect(manifestRefusal.message).toMatch(reason);
      expect(manifestRefusal.message).toContain(
        `redirect target ${new URL(target(stray.port)).origin} is not allowed`,
      );
      expect(blobRefusal.message).toMatch(reason);
      expect(stray.hits()).toBe(0);
    },
  );

  it('refuses a redirect to the instance metadata service', async () => {
    const front = await serve('127.0.0.1', (_req, res) => {
      res
        .writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/iam/security-credentials/' })
        .end();
    });

    const refusal = await refusalOf(clientWith({ registries: [front.host] }).getManifest(at(front)));

    expect(refusal.origin).toBe('http://169.254.169.254');
  });

  it('gives up after five redirects', async () => {
    const front: Local = await serve(
      '127.0.0.1',
      redirectTo(() => `http://${front.host}/again`),
    );

    await expect(clientWith({ registries: [front.host] }).getManifest(at(front))).rejects.toBeInstanceOf(
      RegistryProtocolError,
    );
    expect(front.hits()).toBe(6);
  });

  it('never dials a registry off the allowlist, even when the caller skipped the check', async () => {
    const other = await serve('127.0.0.2', relay);

    const refusal = await refusalOf(new DistributionClient().getManifest(at(other)));

    expect(refusal.message).toContain(`registry http://${other.host} is not allowed`);
    expect(other.hits()).toBe(0);
  });
});

describe('token realms', () => {
  /** A registry front that accepts `Bearer good` and otherwise challenges with `realm()`. */
  const bearerFront =
    (realm: (req: IncomingMessage) => string): Handler =>
    (req, res) => {
      if (req.headers.authorization === 'Bearer good') {
        relay(req, res);
        return;
      }
      res
        .writeHead(401, {
          'content-type': 'application/json',
          'www-authenticate': `Bearer realm="${realm(req)}",service="test-registry"`,
        })
        .end('{"errors":[{"code":"UNAUTHORIZED"}]}');
    };
  const tokenService: Handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"token":"good","expires_in":300}');
  };

  it('fetches a token from a realm listed as a token host', async () => {
    const tokens = await serve('127.0.0.2', tokenService);
    const front = await serve(
      '127.0.0.1',
      bearerFront(() => `http://${tokens.host}/token`),
    );
    const client = clientWith({ registries: [front.host], blobHosts: [tokens.host] });

    const manifest = await client.getManifest(at(front));

    expect(manifest.digest).toBe(manifestRef.digest);
    expect(tokens.hits()).toBe(1);
  });

  it.each([
    [
      'on another loopback address',
      '127.0.0.2',
      (port: number) => `http://127.0.0.2:${port}/token`,
      {},
      /neither on the registry allowlist/,
    ],
    [
      'on the IPv6 loopback address',
      '::1',
      (port: number) => `http://[::1]:${port}/token`,
      {},
      /neither on the registry allowlist/,
    ],
    [
      'on a *.suffix token host whose name resolves to loopback',
      '127.0.0.1',
      (port: number) => `https://auth.tokens.test:${port}/token`,
      { blobHosts: ['*.tokens.test'] },
      /resolves to 127\.0\.0\.1 \(loopback\)/,
    ],
  ] as const)(
    'refuses a Bearer realm %s; the realm never hears of it',
    async (_name, address, realm, lists, reason) => {
      const tokens = await serve(address, tokenService);
      const front = await serve(
        '127.0.0.1',
        bearerFront(() => realm(tokens.port)),
      );
      const client = clientWith({
        registries: [front.host],
        resolve: resolverWith({ 'auth.tokens.test': '127.0.0.1' }),
        ...lists,
      });

      const refusal = await refusalOf(client.getManifest(at(front)));

      expect(refusal.message).toMatch(/^token realm /);
      expect(refusal.message).toMatch(reason);
      expect(tokens.hits()).toBe(0);
    },
  );

  it('sends the registry credentials to the realm only, not to where the realm redirects', async () => {
    const seen: (string | undefined)[] = [];
    const mirror = await serve('127.0.0.3', (req, res) => {
      seen.push(req.headers.authorization);
      tokenService(req, res);
    });
    const tokens = await serve(
      '127.0.0.2',
      redirectTo(() => `http://${mirror.host}`),
    );
    const front = await serve(
      '127.0.0.1',
      bearerFront(() => `http://${tokens.host}/token`),
    );
    const client = new DistributionClient({
      policy: new ConnectionPolicy({ registries: [front.host], blobHosts: [tokens.host, mirror.host] }),
      credentials: { credentialsFor: async () => ({ username: 'ci', password: 's3cret' }) },
    });

    await client.getManifest(at(front));

    expect(tokens.hits()).toBe(1);
    expect(seen).toEqual([undefined]);
  });

  it('does not let a cached challenge carry a refused realm past the policy', async () => {
    const trusted = await serve('127.0.0.2', tokenService);
    const untrusted = await serve('127.0.0.3', tokenService);
    // team/a challenges with the trusted realm; team/b always answers with the untrusted one.
    const front = await serve('127.0.0.1', (req, res) => {
      if (req.url?.startsWith('/v2/team/b/') === true) {
        res
          .writeHead(401, { 'www-authenticate': `Bearer realm="http://${untrusted.host}/token",service="s"` })
          .end();
        return;
      }
      bearerFront(() => `http://${trusted.host}/token`)(req, res);
    });
    const client = clientWith({ registries: [front.host], blobHosts: [trusted.host] });
    await client.getManifest(at(front, 'team/a'));

    const refusal = await refusalOf(client.getManifest(at(front, 'team/b')));

    expect(refusal.origin).toBe(`http://${untrusted.host}`);
    expect(untrusted.hits()).toBe(0);
  });
});

describe('the address that is dialled', () => {
  it('is the one that was checked: a name only the injected resolver knows is read from, asked once', async () => {
    const asked: string[] = [];
    const name = `registry.test:${new URL(registry.url).port}`;
    const client = clientWith({
      registries: [name],
      insecureHosts: [name],
      resolve: resolverWith({ 'registry.test': '127.0.0.1' }, asked),
    });

    const manifest = await client.getManifest({ ...manifestRef, registry: name });

    expect(manifest.digest).toBe(manifestRef.digest);
    expect(asked).toEqual(['registry.test']);
  });

  it('is refused when only a *.suffix pattern admits a name that resolves to loopback', async () => {
    const name = `registry.test:${new URL(registry.url).port}`;
    const client = clientWith({
      registries: ['*.test'],
      insecureHosts: [name],
      resolve: resolverWith({ 'registry.test': '127.0.0.1' }),
    });

    const refusal = await refusalOf(client.getManifest({ ...manifestRef, registry: name }));

    expect(refusal.reason).toMatch(/resolves to 127\.0\.0\.1 \(loopback\)/);
  });
});

describe('POST /v1/registrations through a registry that redirects off the lists', () => {
  it('answers 403 REGISTRY_HOST_NOT_ALLOWED naming the host, and records nothing', async () => {
    const stray = await serve('127.0.0.2', relay);
    const front = await serve(
      '127.0.0.1',
      redirectTo(() => `http://${stray.host}`),
    );
    const plane = await startRegistryPlane({
      allowlist: front.host,
      artifacts: clientWith({ registries: [front.host] }),
    });
    try {
      const answer = await plane.register(`${front.host}/team/policy@${manifestRef.digest}`);

      expect(answer.status).toBe(403);
      expect(answer.contentType).toBe('application/problem+json');
      expect(answer.body).toMatchObject({
        code: 'REGISTRY_HOST_NOT_ALLOWED',
        errors: [{ code: 'REGISTRY_HOST_NOT_ALLOWED', path: 'body.reference' }],
      });
      expect(JSON.stringify(answer.body)).toContain(`http://${stray.host}`);
      expect(stray.hits()).toBe(0);
      const listed = await plane.get('/v1/registrations');
      expect(listed.body).toMatchObject({ items: [] });
    } finally {
      await plane.close();
    }
  });
});

describe('the registration worker', () => {
  it('drops a push whose registry redirects off the lists, without retrying it', async () => {
    const ecrHost = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
    const stray = await serve('127.0.0.2', relay);
    const front = await serve(
      '127.0.0.1',
      redirectTo(() => `http://${stray.host}`),
    );
    const client = clientWith({ registries: [front.host] });
    // ECR has no local stand-in: references to the ECR host are read from the redirecting front.
    const local = (reference: ArtifactReference): ArtifactReference => ({
      ...reference,
      registry: front.host,
    });
    const plane = await startRegistryPlane({
      allowlist: ecrHost,
      artifacts: {
        getManifest: (reference, limit) => client.getManifest(local(reference), limit),
        getBlob: (reference, descriptor, limit) => client.getBlob(local(reference), descriptor, limit),
      },
    });
    try {
      const outcome = await createRegistrationWorker(plane.deps)({
        version: '0',
        id: 'c1d2e3f4-0000-4000-8000-000000000003',
        'detail-type': 'ECR Image Action',
        source: 'aws.ecr',
        account: '123456789012',
        time: '2026-11-21T10:00:00Z',
        region: 'eu-west-1',
        resources: [],
        detail: {
          result: 'SUCCESS',
          'repository-name': 'team/policy',
          'image-digest': manifestRef.digest,
          'action-type': 'PUSH',
          'image-tag': '1.0.0',
        },
      });

      expect(outcome).toBeUndefined();
      expect(stray.hits()).toBe(0);
    } finally {
      await plane.close();
    }
  });
});

describe('the embedded control plane, configured by REGISTRY_ALLOWLIST and REGISTRY_BLOB_HOSTS', () => {
  const transform = `apiVersion: datakit.infoblox.dev/v1alpha1
kind: Transform
metadata:
  name: redirected
  namespace: sales
  version: 1.0.0
spec:
  runtime: cloudquery
  inputs: [{ dataset: raw-orders }]
  outputs: [{ dataset: daily-orders }]
  trigger: { policy: manual }
`;

  async function registerThroughRedirect(blobHosts: (storage: Local) => string | undefined) {
    const pushed = await pushDkArtifact(
      new DistributionClient({ timeoutMs: 10_000 }),
      { registry: registry.host, repository: 'sales/redirected' },
      '1.0.0',
      { 'dk.yaml': transform },
    );
    const storage = await serve('127.0.0.2', relay);
    const front = await serve(
      '127.0.0.1',
      redirectTo(() => `http://${storage.host}`),
    );
    const hosts = blobHosts(storage);
    const plane = await startEmbeddedControlPlane({
      port: 0,
      logLevel: 'SILENT',
      registryAllowlist: front.host,
      ...(hosts === undefined ? {} : { registryBlobHosts: hosts }),
    });
    try {
      const response = await fetch(`${plane.url}/v1/registrations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ reference: `${front.host}/sales/redirected@${pushed.digest}` }),
      });
      return { status: response.status, body: (await response.json()) as unknown, storage };
    } finally {
      await plane.close();
    }
  }

  it('registers a package whose reads are redirected to a listed blob host', async () => {
    const { status, body, storage } = await registerThroughRedirect((storage) => storage.host);

    expect(status).toBe(201);
    expect(body).toMatchObject({ status: 'registered', name: 'redirected' });
    expect(storage.hits()).toBeGreaterThan(0);
  });

  it('refuses the same redirect with 403 when the blob host is not listed', async () => {
    const { status, body, storage } = await registerThroughRedirect(() => undefined);

    expect(status).toBe(403);
    expect(body).toMatchObject({ code: 'REGISTRY_HOST_NOT_ALLOWED' });
    expect(storage.hits()).toBe(0);
  });
});
