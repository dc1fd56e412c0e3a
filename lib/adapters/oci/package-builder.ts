import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { parse } from 'yaml';
import {
  dkConfigMediaType,
  dkContentLayerMediaType,
  dkLayerTypeAnnotation,
  dkManifestsLayerMediaType,
  dkPackageArtifactType,
} from '../../domain/registry/artifact.js';
import type { ArtifactReference, RepositoryName } from '../../domain/registry/reference.js';
import { type DistributionClient, ociManifestMediaType } from './distribution-client.js';

/** One tar entry, including the kinds a well-behaved packer never writes (tests build hostile archives). */
export interface TarEntry {
  readonly name: string;
  readonly type?: 'file' | 'directory' | 'symlink' | 'link' | 'fifo' | 'character-device' | 'block-device';
  readonly contents?: string | Buffer;
  readonly linkname?: string;
}

/** Writes entries into a gzip-compressed tar, exactly as given. */
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
          // Fixed mtimes make the same files produce the same digest, as `dk build` does.
          mtime: new Date(0),
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

/** Whether a package path belongs in the manifests layer (dk.yaml and schemas/) rather than the content layer. */
export function isManifestsLayerPath(path: string): boolean {
  return path === 'dk.yaml' || path.startsWith('schemas/');
}

/** A built artifact: the manifest and every blob it references, ready to push. */
export interface BuiltArtifact {
  readonly manifest: Buffer;
  readonly blobs: readonly Buffer[];
}

/** One layer of an artifact being assembled. */
export interface LayerPart {
  readonly bytes: Buffer;
  readonly mediaType: string;
  readonly annotations?: Readonly<Record<string, string>>;
  /** The size the descriptor declares. @default bytes.length */
  readonly declaredSize?: number;
}

/** Everything an OCI image manifest of a package is made of; `assembleArtifact` only serialises it. */
export interface ArtifactParts {
  /** `undefined` leaves `artifactType` out. */
  readonly artifactType: string | undefined;
  readonly configMediaType: string;
  readonly config: Buffer;
  readonly layers: readonly LayerPart[];
  readonly annotations: Readonly<Record<string, string>>;
}

/** Serialises the parts into an OCI image manifest and its blobs. */
export function assembleArtifact(parts: ArtifactParts): BuiltArtifact {
  const manifest = {
    schemaVersion: 2,
    mediaType: ociManifestMediaType,
    ...(parts.artifactType === undefined ? {} : { artifactType: parts.artifactType }),
    config: { mediaType: parts.configMediaType, digest: sha256(parts.config), size: parts.config.length },
    layers: parts.layers.map((layer) => ({
      mediaType: layer.mediaType,
      digest: sha256(layer.bytes),
      size: layer.declaredSize ?? layer.bytes.length,
      ...(layer.annotations === undefined ? {} : { annotations: { ...layer.annotations } }),
    })),
    annotations: { ...parts.annotations },
  };
  return {
    manifest: Buffer.from(JSON.stringify(manifest)),
    blobs: [parts.config, ...parts.layers.map((layer) => layer.bytes)],
  };
}

/** What the annotations and config say about the package; defaults come from dk.yaml. */
export interface PackageMetadata {
  readonly name?: string;
  readonly namespace?: string;
  readonly version?: string;
  readonly kind?: string;
  readonly description?: string;
  /** `buildInfo` of the config blob. @default a fixed dk/0.9.0 build */
  readonly buildInfo?: Readonly<Record<string, string>>;
  /** `org.opencontainers.image.created`. @default 2024-05-01T10:00:00Z (deterministic digests) */
  readonly created?: string;
}

/** The standard parts of a package in the layout `dk build` produces (ARTIFACT.md). */
export async function packageArtifactParts(
  files: Readonly<Record<string, string | Buffer>>,
  metadata: PackageMetadata = {},
): Promise<
  ArtifactParts & {
    readonly manifestsLayer: Buffer;
    readonly contentLayer: Buffer;
    readonly parsedManifest: unknown;
  }
> {
  const paths = Object.keys(files).sort();
  const entriesOf = (manifests: boolean): TarEntry[] =>
    paths
      .filter((path) => isManifestsLayerPath(path) === manifests)
      .map((path) => ({ name: path, contents: files[path] ?? '' }));
  const manifestsLayer = await tarGz(entriesOf(true));
  const contentLayer = await tarGz(entriesOf(false));

  const dkYaml = files['dk.yaml'];
  const parsedManifest: unknown = dkYaml === undefined ? {} : parse(dkYaml.toString());
  const kind = metadata.kind ?? field(parsedManifest, ['kind']) ?? 'Transform';
  const created = metadata.created ?? '2024-05-01T10:00:00Z';
  const config = Buffer.from(
    JSON.stringify({
      manifest: parsedManifest,
      kind,
      buildInfo: metadata.buildInfo ?? { timestamp: created, builder: 'dk/0.9.0', gitCommit: 'abc1234' },
    }),
  );
  const version =
    metadata.version ??
    field(parsedManifest, ['metadata', 'version']) ??
    field(parsedManifest, ['spec', 'version']) ??
    '0.0.0';
  return {
    artifactType: dkPackageArtifactType,
    configMediaType: dkConfigMediaType,
    config,
    layers: [
      {
        bytes: manifestsLayer,
        mediaType: dkManifestsLayerMediaType,
        annotations: { [dkLayerTypeAnnotation]: 'manifests' },
      },
      {
        bytes: contentLayer,
        mediaType: dkContentLayerMediaType,
        annotations: { [dkLayerTypeAnnotation]: 'content' },
      },
    ],
    annotations: {
      'org.opencontainers.image.created': created,
      'org.opencontainers.image.version': version,
      'org.opencontainers.image.title':
        metadata.name ?? field(parsedManifest, ['metadata', 'name']) ?? 'package',
      'org.opencontainers.image.description': metadata.description ?? 'DataKit package',
      'org.opencontainers.image.revision': 'abc1234',
      'io.infoblox.dk.namespace':
        metadata.namespace ?? field(parsedManifest, ['metadata', 'namespace']) ?? 'default',
      'io.infoblox.dk.kind': kind,
    },
    manifestsLayer,
    contentLayer,
    parsedManifest,
  };
}

/** Builds a package artifact from `{ path: contents }` in the dk layout, identity taken from dk.yaml. */
export async function buildPackageArtifact(
  files: Readonly<Record<string, string | Buffer>>,
  metadata: PackageMetadata = {},
): Promise<BuiltArtifact> {
  return assembleArtifact(await packageArtifactParts(files, metadata));
}

/** Pushes a built artifact's blobs and manifest under `tag`; returns the digest reference. */
export async function pushArtifact(
  client: DistributionClient,
  repository: RepositoryName,
  tag: string,
  artifact: BuiltArtifact,
): Promise<ArtifactReference & { readonly digest: string }> {
  for (const blob of artifact.blobs) await client.putBlob(repository, blob);
  const { digest } = await client.putManifest(
    { ...repository, tag },
    artifact.manifest,
    ociManifestMediaType,
  );
  return { registry: repository.registry, repository: repository.repository, digest };
}

// What `dk build` leaves out of the content layer (ARTIFACT.md).
const excludedNames = new Set(['.git', 'node_modules', '__pycache__', '.venv', '.DS_Store', '.datakit']);

/**
 * A package directory's files by forward-slash path, as `dk build` packs them: VCS and dependency
 * folders left out, and nested packages (subdirectories with their own dk.yaml) belong to themselves.
 */
export async function readPackageDirectory(dir: string): Promise<Record<string, Buffer>> {
  const files: Record<string, Buffer> = {};
  const walk = async (current: string): Promise<void> => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      if (excludedNames.has(entry.name)) continue;
      const path = join(current, entry.name);
      if (entry.isDirectory()) {
        if (!existsSync(join(path, 'dk.yaml'))) await walk(path);
      } else if (entry.isFile()) {
        files[relative(dir, path).split(sep).join('/')] = await readFile(path);
      }
    }
  };
  await walk(dir);
  return files;
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** A string at `path` of an unknown parsed document, if there is one. */
function field(document: unknown, path: readonly string[]): string | undefined {
  let current: unknown = document;
  for (const key of path) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, key)) return undefined;
    current = Reflect.get(current, key);
  }
  return typeof current === 'string' ? current : undefined;
}
