import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ArtifactNotFoundError,
  BlobIntegrityError,
  BlobTooLargeError,
  type CredentialProvider,
  DistributionClient,
  RegistryAuthError,
  RegistryUnavailableError,
} from '../../../lib/adapters/oci/distribution-client.js';
import type { RepositoryName } from '../../../lib/domain/registry/reference.js';
import { buildDkArtifact, ociManifest, pushArtifact } from '../../support/dk-artifact.js';
import {
  freePort,
  startGateway,
  startRegistry,
  startSilentServer,
  startWebhookReceiver,
  type TestRegistry,
} from '../../support/registry.js';

const files = {
  'dk.yaml': 'apiVersion: datakit.infoblox.dev/v1alpha1\nkind: Transform\nmetadata:\n  name: demo\n',
};

function digestOf(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function staticCredentials(username: string, password: string): CredentialProvider {
  return { credentialsFor: async () => ({ username, password }) };
}

let registry: TestRegistry;
const client = new DistributionClient({ timeoutMs: 10_000 });

beforeAll(async () => {
  registry = await startRegistry();
});

afterAll(async () => {
  await registry?.stop();
});

describe('DistributionClient against docker-registry', () => {
  it('reads back a pushed manifest by tag with the digest of the exact bytes pushed', async () => {
    const repo = { registry: registry.host, repository: 'team/by-tag' };
    const artifact = await buildDkArtifact(files);
    await pushArtifact(client, repo, '1.0.0', artifact);

    const manifest = await client.getManifest({ ...repo, tag: '1.0.0' });

    expect(manifest.bytes.equals(artifact.manifest)).toBe(true);
    expect(manifest.digest).toBe(digestOf(artifact.manifest));
    expect(manifest.mediaType).toBe(ociManifest);
    expect(manifest.json).toMatchObject({ artifactType: 'application/vnd.infoblox.dk.package.v1' });
  });

  it('reads a manifest by digest', async () => {
    const repo = { registry: registry.host, repository: 'team/by-digest' };
    const artifact = await buildDkArtifact(files);
    const ref = await pushArtifact(client, repo, 'v2', artifact);

    const manifest = await client.getManifest(ref);

    expect(manifest.digest).toBe(ref.digest);
  });

  it('returns a blob whose bytes match its descriptor', async () => {
    const repo = { registry: registry.host, repository: 'team/blob' };
    const bytes = Buffer.from('some blob bytes');
    const pushed = await client.putBlob(repo, bytes);

    const blob = await client.getBlob(repo, { mediaType: 'x', ...pushed }, { maxBytes: 1024 });

    expect(blob.equals(bytes)).toBe(true);
  });

  it('pushing the same blob twice is a no-op the second time', async () => {
    const repo = { registry: registry.host, repository: 'team/blob-twice' };
    const bytes = Buffer.from('idempotent');

    const first = await client.putBlob(repo, bytes);
    const second = await client.putBlob(repo, bytes);

    expect(second).toEqual(first);
  });

  it('refuses a blob larger than maxBytes', async () => {
    const repo = { registry: registry.host, repository: 'team/large' };
    const pushed = await client.putBlob(repo, Buffer.alloc(4096, 1));

    await expect(
      client.getBlob(repo, { mediaType: 'x', ...pushed }, { maxBytes: 1000 }),
    ).rejects.toBeInstanceOf(BlobTooLargeError);
  });

  it('refuses a blob whose descriptor understates its size, without reading past the declared size', async () => {
    const repo = { registry: registry.host, repository: 'team/understated' };
    const pushed = await client.putBlob(repo, Buffer.alloc(4096, 2));

    const reading = client.getBlob(
      repo,
      { mediaType: 'x', digest: pushed.digest, size: 100 },
      { maxBytes: 10_000 },
    );

    await expect(reading).rejects.toMatchObject({ code: 'DK_BLOB_SIZE_MISMATCH' });
  });

  it('throws ArtifactNotFoundError for an unknown tag, repository or blob', async () => {
    const repo = { registry: registry.host, repository: 'team/missing' };
    const missingBlob = { mediaType: 'x', digest: digestOf(Buffer.from('nope')), size: 4 };

    await expect(client.getManifest({ ...repo, tag: 'nope' })).rejects.toBeInstanceOf(ArtifactNotFoundError);
    await expect(client.getBlob(repo, missingBlob, { maxBytes: 10 })).rejects.toMatchObject({
      code: 'DK_ARTIFACT_NOT_FOUND',
      retryable: false,
    });
  });

  it('throws a retryable RegistryUnavailableError when nothing listens', async () => {
    const repo = { registry: `127.0.0.1:${await freePort()}`, repository: 'team/down' };

    const reading = client.getManifest({ ...repo, tag: '1.0.0' });

    await expect(reading).rejects.toBeInstanceOf(RegistryUnavailableError);
    await expect(reading).rejects.toMatchObject({ code: 'DK_REGISTRY_UNAVAILABLE', retryable: true });
  });

  it('gives up on a registry that never answers after the configured timeout', async () => {
    const silent = await startSilentServer();
    const impatient = new DistributionClient({ timeoutMs: 300 });
    const started = Date.now();
    try {
      await expect(
        impatient.getManifest({ registry: silent.host, repository: 'team/slow', tag: '1' }),
      ).rejects.toBeInstanceOf(RegistryUnavailableError);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await silent.stop();
    }
  });
});

describe('DistributionClient time limits', () => {
  /** A registry that sends headers and the start of a manifest, then nothing more. */
  async function startStallingBody(): Promise<{ host: string; stop(): Promise<void> }> {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': ociManifest, 'content-length': '1000' });
      res.write('{"schemaVersion":');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const bound = server.address();
    if (bound === null || typeof bound === 'string') throw new Error('server has no TCP address');
    return {
      host: `127.0.0.1:${bound.port}`,
      stop: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    };
  }

  it('gives up on a body that stops halfway after the configured timeout', async () => {
    const stalling = await startStallingBody();
    try {
      const reading = new DistributionClient({ timeoutMs: 300 }).getManifest({
        registry: stalling.host,
        repository: 'team/stalled',
        tag: '1',
      });

      await expect(reading).rejects.toBeInstanceOf(RegistryUnavailableError);
    } finally {
      await stalling.stop();
    }
  });

  it("stops a read when the caller's deadline passes, before its own timeout", async () => {
    const stalling = await startStallingBody();
    try {
      const reading = new DistributionClient({ timeoutMs: 20_000 }).getManifest(
        { registry: stalling.host, repository: 'team/stalled', tag: '1' },
        { signal: AbortSignal.timeout(200) },
      );

      await expect(reading).rejects.toBeInstanceOf(RegistryUnavailableError);
      await expect(reading).rejects.toThrow(/deadline/);
    } finally {
      await stalling.stop();
    }
  });
});

describe('DistributionClient integrity checks against a tampering gateway', () => {
  it('rejects a blob whose bytes do not hash to the requested digest', async () => {
    const repo = { registry: registry.host, repository: 'team/tampered-blob' };
    const pushed = await client.putBlob(repo, Buffer.from('honest bytes'));
    const gateway = await startGateway({ upstream: registry, tamper: { blobs: true } });
    try {
      const reading = client.getBlob(
        { ...repo, registry: gateway.host },
        { mediaType: 'x', ...pushed },
        { maxBytes: 1024 },
      );
      await expect(reading).rejects.toBeInstanceOf(BlobIntegrityError);
      await expect(reading).rejects.toMatchObject({ code: 'DK_BLOB_DIGEST_MISMATCH' });
    } finally {
      await gateway.stop();
    }
  });

  it('rejects a manifest fetched by digest whose bytes hash to something else', async () => {
    const repo = { registry: registry.host, repository: 'team/tampered-manifest' };
    const ref = await pushArtifact(client, repo, '1.0.0', await buildDkArtifact(files));
    const gateway = await startGateway({ upstream: registry, tamper: { manifests: true } });
    try {
      await expect(client.getManifest({ ...ref, registry: gateway.host })).rejects.toMatchObject({
        code: 'DK_BLOB_DIGEST_MISMATCH',
      });
    } finally {
      await gateway.stop();
    }
  });
});

describe('DistributionClient authentication', () => {
  const repository = 'team/private';

  it('answers a Basic challenge with the provider credentials', async () => {
    const gateway = await startGateway({
      upstream: registry,
      auth: { kind: 'basic', username: 'ci', password: 's3cret' },
    });
    const authed = new DistributionClient({ credentials: staticCredentials('ci', 's3cret') });
    const repo: RepositoryName = { registry: gateway.host, repository };
    try {
      await pushArtifact(authed, repo, '1.0.0', await buildDkArtifact(files));
      const manifest = await authed.getManifest({ ...repo, tag: '1.0.0' });
      expect(manifest.json).toMatchObject({ schemaVersion: 2 });
    } finally {
      await gateway.stop();
    }
  });

  it('throws RegistryAuthError when Basic credentials are wrong', async () => {
    const gateway = await startGateway({
      upstream: registry,
      auth: { kind: 'basic', username: 'ci', password: 's3cret' },
    });
    const wrong = new DistributionClient({ credentials: staticCredentials('ci', 'guess') });
    try {
      const reading = wrong.getManifest({ registry: gateway.host, repository, tag: '1.0.0' });
      await expect(reading).rejects.toBeInstanceOf(RegistryAuthError);
      await expect(reading).rejects.toMatchObject({ code: 'DK_REGISTRY_AUTH', retryable: false });
    } finally {
      await gateway.stop();
    }
  });

  it('throws RegistryAuthError when a registry requires credentials and none are configured', async () => {
    const gateway = await startGateway({
      upstream: registry,
      auth: { kind: 'basic', username: 'ci', password: 's3cret' },
    });
    try {
      await expect(
        client.getManifest({ registry: gateway.host, repository, tag: '1.0.0' }),
      ).rejects.toBeInstanceOf(RegistryAuthError);
    } finally {
      await gateway.stop();
    }
  });

  it('follows the Bearer challenge to the token realm and reuses the token for the same scope', async () => {
    const gateway = await startGateway({
      upstream: registry,
      auth: { kind: 'bearer', username: 'ci', password: 'tok3n' },
    });
    const authed = new DistributionClient({ credentials: staticCredentials('ci', 'tok3n') });
    const repo: RepositoryName = { registry: gateway.host, repository: 'team/bearer' };
    try {
      await pushArtifact(authed, repo, '1.0.0', await buildDkArtifact(files));
      const tokensAfterPush = gateway.tokensIssued();

      await authed.getManifest({ ...repo, tag: '1.0.0' });
      await authed.getManifest({ ...repo, tag: '1.0.0' });
      await authed.getManifest({ ...repo, tag: '1.0.0' });

      // One token for push scope, one for pull scope; repeated pulls reuse the cached pull token.
      expect(tokensAfterPush).toBe(1);
      expect(gateway.tokensIssued()).toBe(2);
    } finally {
      await gateway.stop();
    }
  });

  it('asks for a new token once the cached one has expired', async () => {
    const gateway = await startGateway({
      upstream: registry,
      auth: { kind: 'bearer', expiresInSeconds: 60 },
    });
    let now = Date.now();
    const authed = new DistributionClient({ now: () => now });
    const repo: RepositoryName = { registry: gateway.host, repository: 'team/bearer-expiry' };
    try {
      await pushArtifact(authed, repo, '1.0.0', await buildDkArtifact(files));
      await authed.getManifest({ ...repo, tag: '1.0.0' });
      const before = gateway.tokensIssued();

      now += 61_000;
      await authed.getManifest({ ...repo, tag: '1.0.0' });

      expect(gateway.tokensIssued()).toBe(before + 1);
    } finally {
      await gateway.stop();
    }
  });

  it('throws RegistryAuthError when the token service refuses the credentials', async () => {
    const gateway = await startGateway({
      upstream: registry,
      auth: { kind: 'bearer', username: 'ci', password: 'tok3n' },
    });
    const wrong = new DistributionClient({ credentials: staticCredentials('ci', 'nope') });
    try {
      await expect(
        wrong.getManifest({ registry: gateway.host, repository: 'team/bearer', tag: '1.0.0' }),
      ).rejects.toBeInstanceOf(RegistryAuthError);
    } finally {
      await gateway.stop();
    }
  });
});

describe('DistributionClient redirects', () => {
  it('follows a blob redirect to another origin without sending it the registry credentials', async () => {
    const gateway = await startGateway({
      upstream: registry,
      auth: { kind: 'basic', username: 'ci', password: 's3cret' },
      redirectBlobs: true,
    });
    const authed = new DistributionClient({ credentials: staticCredentials('ci', 's3cret') });
    const repo: RepositoryName = { registry: gateway.host, repository: 'team/redirected' };
    try {
      const bytes = Buffer.from('bytes served from object storage');
      const pushed = await authed.putBlob(repo, bytes);

      const blob = await authed.getBlob(repo, { mediaType: 'x', ...pushed }, { maxBytes: 1024 });

      expect(blob.equals(bytes)).toBe(true);
      expect(gateway.redirectTargetAuthorizations()).toEqual([]);
    } finally {
      await gateway.stop();
    }
  });
});

describe('registry notifications', () => {
  it('the test registry posts a push event for a pushed manifest to the configured webhook', async () => {
    const webhook = await startWebhookReceiver();
    const notifying = await startRegistry({ notifications: { url: webhook.url } });
    try {
      const repo = { registry: notifying.host, repository: 'team/notified' };
      const ref = await pushArtifact(client, repo, '1.0.0', await buildDkArtifact(files));

      await expect
        .poll(() => JSON.stringify(webhook.bodies()), { timeout: 10_000, interval: 100 })
        .toContain(ref.digest);
      expect(JSON.stringify(webhook.bodies())).toContain('"action":"push"');
    } finally {
      await notifying.stop();
      await webhook.stop();
    }
  });
});

describe('manifest size limit', () => {
  it('refuses a manifest over maxBytes with BlobTooLargeError', async () => {
    const repo = { registry: registry.host, repository: 'team/big-manifest' };
    await pushArtifact(client, repo, '1.0.0', await buildDkArtifact(files));

    await expect(client.getManifest({ ...repo, tag: '1.0.0' }, { maxBytes: 100 })).rejects.toBeInstanceOf(
      BlobTooLargeError,
    );
  });
});
