import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ArtifactNotFoundError,
  DistributionClient,
  RegistryUnavailableError,
} from '../../../lib/adapters/oci/distribution-client.js';
import { readPackageArtifact } from '../../../lib/domain/registry/artifact.js';
import { formatReference } from '../../../lib/domain/registry/reference.js';
import {
  type ArtifactVariation,
  gzipBomb,
  hostileContentLayer,
  hostileContentLayers,
  pushDkArtifact,
  type TarEntry,
  tarGz,
} from '../../support/dk-artifact.js';
import { freePort, startGateway, startRegistry, type TestRegistry } from '../../support/registry.js';

const dkYaml = `apiVersion: datakit.infoblox.dev/v1alpha1
kind: Transform
metadata:
  name: orders-daily
  namespace: sales
  version: 1.2.0
spec:
  runtime: generic-python
  inputs:
    - dataset: raw-orders
  outputs:
    - dataset: daily-orders
`;

const packageFiles = {
  'dk.yaml': dkYaml,
  'schemas/daily-orders.json': '{"type":"object"}\n',
  'dataset/daily-orders.yaml':
    'apiVersion: datakit.infoblox.dev/v1alpha1\nkind: DataSet\nmetadata:\n  name: daily-orders\n',
  'src/main.py': 'print("hello")\n',
  'README.md': Buffer.from([0xef, 0xbb, 0xbf, 0x23, 0x20, 0x68, 0x69, 0x0a]),
};

let registry: TestRegistry;
const client = new DistributionClient({ timeoutMs: 10_000 });
let counter = 0;

/** Pushes a variation of the package under a fresh repository and reads it back. */
async function pushAndRead(
  variation: ArtifactVariation = {},
  files: Record<string, string | Buffer> = packageFiles,
) {
  counter += 1;
  const repository = { registry: registry.host, repository: `sales/orders-daily-${counter}` };
  const ref = await pushDkArtifact(client, repository, '1.2.0', files, variation);
  return { ref, result: await readPackageArtifact(client, { ...repository, tag: '1.2.0' }) };
}

async function problemCodes(variation: ArtifactVariation): Promise<string[]> {
  const { result } = await pushAndRead(variation);
  return result.ok ? [] : result.problems.map((problem) => problem.code);
}

beforeAll(async () => {
  registry = await startRegistry();
});

afterAll(async () => {
  await registry?.stop();
});

describe('readPackageArtifact accepts artifacts in the dk layout', () => {
  it('returns the manifests layer and the manifests of the content layer byte-for-byte, with digest, annotations and config', async () => {
    const { ref, result } = await pushAndRead();

    expect(result).toMatchObject({
      ok: true,
      digest: ref.digest,
      annotations: { 'io.infoblox.dk.kind': 'Transform', 'org.opencontainers.image.version': '1.2.0' },
      config: {
        kind: 'Transform',
        manifest: { metadata: { name: 'orders-daily' } },
        buildInfo: { builder: 'dk/0.9.0' },
      },
    });
    if (!result.ok) return;
    expect(Object.keys(result.files).sort()).toEqual([
      'dataset/daily-orders.yaml',
      'dk.yaml',
      'schemas/daily-orders.json',
    ]);
    for (const path of Object.keys(result.files)) {
      expect(
        result.files[path]?.equals(Buffer.from(packageFiles[path as keyof typeof packageFiles])),
        path,
      ).toBe(true);
    }
  });

  it('reads past the rest of the content layer (source, README) without keeping it', async () => {
    const { result } = await pushAndRead();

    expect(result.ok && Object.keys(result.files)).not.toContain('src/main.py');
    expect(result.ok && Object.keys(result.files)).not.toContain('README.md');
  });

  it('reads the same artifact by digest reference string', async () => {
    const { ref } = await pushAndRead();

    const result = await readPackageArtifact(client, formatReference(ref));

    expect(result).toMatchObject({ ok: true, digest: ref.digest });
  });

  it('finds layers by media type and annotation, not by position', async () => {
    const { result } = await pushAndRead({ reverseLayers: true });

    expect(result.ok).toBe(true);
    expect(result.ok && Object.keys(result.files)).toContain('dataset/daily-orders.yaml');
  });

  it('accepts a package without a content layer, returning the manifests layer alone', async () => {
    const { result } = await pushAndRead({ omitLayer: 'content' });

    expect(result.ok && Object.keys(result.files).sort()).toEqual(['dk.yaml', 'schemas/daily-orders.json']);
  });
});

describe('readPackageArtifact refuses artifacts that break the dk layout, with one code per reason', () => {
  it('DK_ARTIFACT_TYPE_INVALID for another artifactType', async () => {
    const { ref, result } = await pushAndRead({ artifactType: 'application/vnd.example.other.v1' });

    expect(result).toEqual({
      ok: false,
      digest: ref.digest,
      problems: [expect.objectContaining({ code: 'DK_ARTIFACT_TYPE_INVALID', path: 'artifactType' })],
    });
  });

  it('DK_ARTIFACT_TYPE_INVALID when artifactType is missing', async () => {
    expect(await problemCodes({ artifactType: null })).toEqual(['DK_ARTIFACT_TYPE_INVALID']);
  });

  it('DK_ARTIFACT_CONFIG_MEDIA_TYPE for a config of another media type', async () => {
    expect(await problemCodes({ configMediaType: 'application/vnd.oci.image.config.v1+json' })).toEqual([
      'DK_ARTIFACT_CONFIG_MEDIA_TYPE',
    ]);
  });

  it('DK_ARTIFACT_CONFIG_INVALID for a config that is not JSON', async () => {
    expect(await problemCodes({ configBytes: Buffer.from('not json') })).toEqual([
      'DK_ARTIFACT_CONFIG_INVALID',
    ]);
  });

  it('DK_ARTIFACT_CONFIG_INVALID with the field path for a config of the wrong shape', async () => {
    const { result } = await pushAndRead({
      configBytes: Buffer.from(JSON.stringify({ manifest: {}, kind: 'Pipeline', buildInfo: {} })),
    });

    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'DK_ARTIFACT_CONFIG_INVALID', path: 'config.kind' }),
        expect.objectContaining({ code: 'DK_ARTIFACT_CONFIG_INVALID', path: 'config.buildInfo.timestamp' }),
      ]),
    );
  });

  it('DK_ARTIFACT_MANIFESTS_LAYER_MISSING when there is no manifests layer', async () => {
    expect(await problemCodes({ omitLayer: 'manifests' })).toEqual(['DK_ARTIFACT_MANIFESTS_LAYER_MISSING']);
  });

  it('DK_ARTIFACT_MANIFESTS_LAYER_MISSING when the manifests layer lacks its layer-type annotation', async () => {
    expect(await problemCodes({ unannotatedLayer: 'manifests' })).toEqual([
      'DK_ARTIFACT_MANIFESTS_LAYER_MISSING',
    ]);
  });

  it('DK_ARTIFACT_DK_YAML_MISSING when the manifests layer holds no dk.yaml', async () => {
    const manifestsLayer = await tarGz([{ name: 'schemas/x.json', contents: '{}' }]);

    expect(await problemCodes({ manifestsLayer })).toEqual(['DK_ARTIFACT_DK_YAML_MISSING']);
  });

  it('DK_ARTIFACT_FILE_CONFLICT when both layers hold dk.yaml with different bytes', async () => {
    const contentLayer = await tarGz([{ name: 'dk.yaml', contents: 'kind: Other\n' }]);

    expect(await problemCodes({ contentLayer })).toEqual(['DK_ARTIFACT_FILE_CONFLICT']);
  });

  it('DK_ARTIFACT_NOT_IMAGE_MANIFEST when the tag points at an OCI image index', async () => {
    const { ref } = await pushAndRead();
    const manifest = await client.getManifest(ref);
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [{ mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.bytes.length }],
      }),
    );
    const indexRef = { registry: ref.registry, repository: ref.repository, tag: 'index' };
    await client.putManifest(indexRef, index, 'application/vnd.oci.image.index.v1+json');

    const result = await readPackageArtifact(client, indexRef);

    expect(result.ok ? [] : result.problems).toEqual([
      expect.objectContaining({ code: 'DK_ARTIFACT_NOT_IMAGE_MANIFEST', path: 'mediaType' }),
    ]);
  });

  it.each<[string, TarEntry[], string]>([
    ['a ../ path', [{ name: 'dk.yaml' }, { name: '../escape.txt', contents: 'x' }], 'DK_ARCHIVE_UNSAFE_PATH'],
    [
      'an absolute path',
      [{ name: 'dk.yaml' }, { name: '/etc/passwd', contents: 'x' }],
      'DK_ARCHIVE_UNSAFE_PATH',
    ],
    [
      'a symlink',
      [{ name: 'dk.yaml' }, { name: 'link', type: 'symlink', linkname: '/etc/passwd' }],
      'DK_ARCHIVE_LINK',
    ],
    [
      'a hard link',
      [{ name: 'dk.yaml' }, { name: 'hard', type: 'link', linkname: 'dk.yaml' }],
      'DK_ARCHIVE_LINK',
    ],
    ['a FIFO', [{ name: 'dk.yaml' }, { name: 'pipe', type: 'fifo' }], 'DK_ARCHIVE_UNSUPPORTED_ENTRY'],
    ['a duplicate path', [{ name: 'dk.yaml' }, { name: './dk.yaml' }], 'DK_ARCHIVE_DUPLICATE_PATH'],
  ])('the archive code, pointing at the layer, for a manifests layer with %s', async (_, entries, code) => {
    const { result } = await pushAndRead({ manifestsLayer: await tarGz(entries) });

    expect(result.ok ? [] : result.problems).toEqual([expect.objectContaining({ code, path: 'layers[0]' })]);
  });

  it('DK_ARCHIVE_TOO_LARGE for a gzip bomb in the content layer', async () => {
    counter += 1;
    const repository = { registry: registry.host, repository: `sales/bomb-${counter}` };
    await pushDkArtifact(client, repository, '1', packageFiles, {
      contentLayer: await gzipBomb(8 * 1024 * 1024),
    });

    const result = await readPackageArtifact(
      client,
      { ...repository, tag: '1' },
      { archive: { maxUncompressedBytes: 1024 * 1024 } },
    );

    expect(result.ok ? [] : result.problems).toEqual([
      expect.objectContaining({ code: 'DK_ARCHIVE_TOO_LARGE', path: 'layers[1]' }),
    ]);
  });

  it('DK_ARCHIVE_TOO_MANY_ENTRIES for a content layer with more entries than allowed', async () => {
    counter += 1;
    const repository = { registry: registry.host, repository: `sales/many-${counter}` };
    const entries = Array.from({ length: 300 }, (_, index) => ({ name: `f/${index}.txt`, contents: '' }));
    await pushDkArtifact(client, repository, '1', packageFiles, { contentLayer: await tarGz(entries) });

    const result = await readPackageArtifact(
      client,
      { ...repository, tag: '1' },
      { archive: { maxEntries: 100 } },
    );

    expect(result.ok ? [] : result.problems.map((problem) => problem.code)).toEqual([
      'DK_ARCHIVE_TOO_MANY_ENTRIES',
    ]);
  });

  it('DK_ARCHIVE_TOO_LARGE for a layer whose compressed size is over the layer limit, before downloading it', async () => {
    counter += 1;
    const repository = { registry: registry.host, repository: `sales/big-layer-${counter}` };
    await pushDkArtifact(client, repository, '1', packageFiles);

    const result = await readPackageArtifact(client, { ...repository, tag: '1' }, { maxLayerBytes: 10 });

    expect(result.ok ? [] : result.problems.map((problem) => problem.code)).toEqual(['DK_ARCHIVE_TOO_LARGE']);
  });

  it('DK_ARTIFACT_BLOB_DIGEST_MISMATCH when a relay alters layer bytes', async () => {
    counter += 1;
    const repository = { registry: registry.host, repository: `sales/tampered-${counter}` };
    await pushDkArtifact(client, repository, '1', packageFiles);
    const gateway = await startGateway({ upstream: registry, tamper: { blobs: true } });
    try {
      const result = await readPackageArtifact(client, { ...repository, registry: gateway.host, tag: '1' });

      expect(result.ok ? [] : result.problems).toEqual([
        expect.objectContaining({ code: 'DK_ARTIFACT_BLOB_DIGEST_MISMATCH', path: 'config' }),
      ]);
    } finally {
      await gateway.stop();
    }
  });

  it('DK_ARTIFACT_BLOB_DIGEST_MISMATCH when a layer descriptor misstates the size', async () => {
    const { result } = await pushAndRead({ misstateContentSize: 7 });

    expect(result.ok ? [] : result.problems.map((problem) => problem.code)).toEqual([
      'DK_ARTIFACT_BLOB_DIGEST_MISMATCH',
    ]);
  });
});

describe('readPackageArtifact reads hostile content layers within the default bounds (issue 7)', () => {
  it.each(hostileContentLayers)('$name: $expected', async (layer) => {
    const { result } = await pushAndRead({ contentLayer: await layer.build() });

    if (layer.expected === 'accepted') expect(result.ok ? [] : result.problems).toEqual([]);
    else {
      expect(result.ok ? [] : result.problems).toEqual([
        expect.objectContaining({ code: layer.expected, path: 'layers[1]' }),
      ]);
    }
  });

  it('keeps the manifest beside a 48 MiB data file and not the data file', async () => {
    const { result } = await pushAndRead({
      contentLayer: await hostileContentLayer('large-file-48mib').build(),
    });

    expect(result.ok && Object.keys(result.files).sort()).toEqual([
      'dataset/daily-orders.yaml',
      'dk.yaml',
      'schemas/daily-orders.json',
    ]);
  });

  it('names the limit a refused layer crossed', async () => {
    const { result } = await pushAndRead({
      contentLayer: await hostileContentLayer('inflation-7x32mib').build(),
    });

    expect(result.ok ? [] : result.problems.map((problem) => problem.message)).toEqual([
      'archive inflates to more than 67108864 bytes',
    ]);
  });
});

describe('readPackageArtifact leaves infrastructure failures to the caller', () => {
  it('throws ArtifactNotFoundError for a tag that does not exist', async () => {
    await expect(
      readPackageArtifact(client, { registry: registry.host, repository: 'sales/none', tag: '9.9.9' }),
    ).rejects.toBeInstanceOf(ArtifactNotFoundError);
  });

  it('throws a retryable RegistryUnavailableError when the registry is down', async () => {
    const reading = readPackageArtifact(client, `127.0.0.1:${await freePort()}/sales/down:1.0.0`);

    await expect(reading).rejects.toBeInstanceOf(RegistryUnavailableError);
  });

  it('throws InvalidReferenceError for a malformed reference string', async () => {
    await expect(readPackageArtifact(client, 'not a reference')).rejects.toMatchObject({
      code: 'DK_REF_INVALID',
    });
  });
});
