import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { parse } from 'yaml';
import type { DistributionClient } from '../../lib/adapters/oci/distribution-client.js';
import type { ArtifactReference, RepositoryName } from '../../lib/domain/registry/reference.js';

export const ociManifest = 'application/vnd.oci.image.manifest.v1+json';
export const dkArtifactType = 'application/vnd.infoblox.dk.package.v1';
export const dkConfig = 'application/vnd.infoblox.dk.config.v1+json';
export const dkManifestsLayer = 'application/vnd.infoblox.dk.manifest.v1+yaml';
export const ociLayer = 'application/vnd.oci.image.layer.v1.tar+gzip';
const layerTypeAnnotation = 'io.infoblox.dk.layer.type';

/** One tar entry, including the kinds a well-behaved packer never writes. */
export interface TarEntry {
  readonly name: string;
  readonly type?: 'file' | 'directory' | 'symlink' | 'link' | 'fifo' | 'character-device' | 'block-device';
  readonly contents?: string | Buffer;
  readonly linkname?: string;
}

/** Writes entries into a gzip-compressed tar, exactly as given (unsafe names included). */
export async function tarGz(entries: readonly TarEntry[]): Promise<Buffer> {
  const packer = pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of packer) if (Buffer.isBuffer(chunk)) chunks.push(chunk);
  })();
  for (const entry of entries) {
    const type = entry.type ?? 'file';
    const contents = type === 'file' ? (entry.contents ?? '') : '';
    await new Promise<void>((resolve, reject) => {
      packer.entry(
        {
          name: entry.name,
          type,
          mode: type === 'directory' ? 0o755 : 0o644,
          linkname: entry.linkname ?? '',
        },
        typeof contents === 'string' ? Buffer.from(contents) : contents,
        (error) => (error ? reject(error) : resolve()),
      );
    });
  }
  packer.finalize();
  await collected;
  return gzipSync(Buffer.concat(chunks));
}

/** A tar.gz holding one file of `size` zero bytes: tiny compressed, huge inflated. */
export async function gzipBomb(size: number): Promise<Buffer> {
  return tarGz([{ name: 'bomb.bin', contents: Buffer.alloc(size) }]);
}

/** Ways to produce an artifact that breaks one rule of the dk layout. */
export interface ArtifactVariation {
  /** `null` leaves `artifactType` out. */
  readonly artifactType?: string | null;
  readonly configMediaType?: string;
  /** Replaces the config blob's bytes. */
  readonly configBytes?: Buffer;
  readonly omitLayer?: 'manifests' | 'content';
  readonly unannotatedLayer?: 'manifests' | 'content';
  readonly reverseLayers?: boolean;
  /** Replaces a layer's tar.gz bytes (malicious tars, bombs). */
  readonly manifestsLayer?: Buffer;
  readonly contentLayer?: Buffer;
  /** Declares a layer's size as this many bytes more than it really is. */
  readonly misstateContentSize?: number;
}

/** What {@link buildDkArtifact} produced, ready to push. */
export interface BuiltArtifact {
  readonly manifest: Buffer;
  readonly blobs: readonly Buffer[];
}

/** Package metadata written into annotations and config. */
export interface PackageMetadata {
  readonly name?: string;
  readonly namespace?: string;
  readonly version?: string;
  readonly kind?: string;
  readonly description?: string;
}

/** Whether a package path belongs in the manifests layer (dk.yaml and schemas/) rather than the content layer. */
export function isManifestsLayerPath(path: string): boolean {
  return path === 'dk.yaml' || path.startsWith('schemas/');
}

/**
 * Builds an artifact in the layout `dk build` produces (ARTIFACT.md): config blob, manifests layer, content
 * layer, annotations, all from `{ path: contents }`; `variation` breaks exactly what it names.
 */
export async function buildDkArtifact(
  files: Readonly<Record<string, string | Buffer>>,
  metadata: PackageMetadata = {},
  variation: ArtifactVariation = {},
): Promise<BuiltArtifact> {
  const paths = Object.keys(files).sort();
  const entriesOf = (manifests: boolean): TarEntry[] =>
    paths
      .filter((path) => isManifestsLayerPath(path) === manifests)
      .map((path) => ({ name: path, contents: files[path] ?? '' }));
  const manifestsTar = variation.manifestsLayer ?? (await tarGz(entriesOf(true)));
  const contentTar = variation.contentLayer ?? (await tarGz(entriesOf(false)));

  const dkYaml = files['dk.yaml'];
  const parsedManifest: unknown = dkYaml === undefined ? {} : parse(dkYaml.toString());
  const kind = metadata.kind ?? kindOf(parsedManifest) ?? 'Transform';
  const config =
    variation.configBytes ??
    Buffer.from(
      JSON.stringify({
        manifest: parsedManifest,
        kind,
        buildInfo: { timestamp: '2024-05-01T10:00:00Z', builder: 'dk/0.9.0', gitCommit: 'abc1234' },
      }),
    );

  const layer = (bytes: Buffer, mediaType: string, layerType: 'manifests' | 'content') => ({
    mediaType,
    digest: sha256(bytes),
    size: bytes.length + (layerType === 'content' ? (variation.misstateContentSize ?? 0) : 0),
    ...(variation.unannotatedLayer === layerType
      ? {}
      : { annotations: { [layerTypeAnnotation]: layerType } }),
  });
  const layers = [
    ...(variation.omitLayer === 'manifests' ? [] : [layer(manifestsTar, dkManifestsLayer, 'manifests')]),
    ...(variation.omitLayer === 'content' ? [] : [layer(contentTar, ociLayer, 'content')]),
  ];
  if (variation.reverseLayers === true) layers.reverse();

  const artifactType = variation.artifactType === undefined ? dkArtifactType : variation.artifactType;
  const manifest = {
    schemaVersion: 2,
    mediaType: ociManifest,
    ...(artifactType === null ? {} : { artifactType }),
    config: { mediaType: variation.configMediaType ?? dkConfig, digest: sha256(config), size: config.length },
    layers,
    annotations: {
      'org.opencontainers.image.created': '2024-05-01T10:00:00Z',
      'org.opencontainers.image.version': metadata.version ?? '1.0.0',
      'org.opencontainers.image.title': metadata.name ?? nameOf(parsedManifest) ?? 'package',
      'org.opencontainers.image.description': metadata.description ?? 'test package',
      'org.opencontainers.image.revision': 'abc1234',
      'io.infoblox.dk.namespace': metadata.namespace ?? 'default',
      'io.infoblox.dk.kind': kind,
    },
  };
  return { manifest: Buffer.from(JSON.stringify(manifest)), blobs: [config, manifestsTar, contentTar] };
}

/** Pushes a built artifact's blobs and manifest under `tag`; returns the digest reference. */
export async function pushArtifact(
  client: DistributionClient,
  repository: RepositoryName,
  tag: string,
  artifact: BuiltArtifact,
): Promise<ArtifactReference & { readonly digest: string }> {
  for (const blob of artifact.blobs) await client.putBlob(repository, blob);
  const { digest } = await client.putManifest({ ...repository, tag }, artifact.manifest, ociManifest);
  return { registry: repository.registry, repository: repository.repository, digest };
}

/** Builds and pushes in one step. */
export async function pushDkArtifact(
  client: DistributionClient,
  repository: RepositoryName,
  tag: string,
  files: Readonly<Record<string, string | Buffer>>,
  variation: ArtifactVariation = {},
): Promise<ArtifactReference & { readonly digest: string }> {
  return pushArtifact(client, repository, tag, await buildDkArtifact(files, {}, variation));
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function kindOf(manifest: unknown): string | undefined {
  if (typeof manifest !== 'object' || manifest === null || !('kind' in manifest)) return undefined;
  return typeof manifest.kind === 'string' ? manifest.kind : undefined;
}

function nameOf(manifest: unknown): string | undefined {
  if (typeof manifest !== 'object' || manifest === null || !('metadata' in manifest)) return undefined;
  const { metadata } = manifest;
  if (typeof metadata !== 'object' || metadata === null || !('name' in metadata)) return undefined;
  return typeof metadata.name === 'string' ? metadata.name : undefined;
}
