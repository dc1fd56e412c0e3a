import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { DistributionClient } from '../../lib/adapters/oci/distribution-client.js';
import {
  assembleArtifact,
  type BuiltArtifact,
  type LayerPart,
  type PackageMetadata,
  packageArtifactParts,
  pushArtifact,
  tarGz,
} from '../../lib/adapters/oci/package-builder.js';
import type { ArtifactReference, RepositoryName } from '../../lib/domain/registry/reference.js';

export {
  type BuiltArtifact,
  isManifestsLayerPath,
  type PackageMetadata,
  pushArtifact,
  type TarEntry,
  tarGz,
} from '../../lib/adapters/oci/package-builder.js';

export const ociManifest = 'application/vnd.oci.image.manifest.v1+json';
export const dkArtifactType = 'application/vnd.infoblox.dk.package.v1';
export const dkConfig = 'application/vnd.infoblox.dk.config.v1+json';
export const dkManifestsLayer = 'application/vnd.infoblox.dk.manifest.v1+yaml';
export const ociLayer = 'application/vnd.oci.image.layer.v1.tar+gzip';

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
  /** Overrides manifest annotations (identity mismatches). */
  readonly annotations?: Readonly<Record<string, string>>;
}

/**
 * Builds an artifact in the layout `dk build` produces (the shared package builder), then breaks
 * exactly what `variation` names.
 */
export async function buildDkArtifact(
  files: Readonly<Record<string, string | Buffer>>,
  metadata: PackageMetadata = {},
  variation: ArtifactVariation = {},
): Promise<BuiltArtifact> {
  const parts = await packageArtifactParts(files, metadata);
  const [manifests, content] = parts.layers;
  if (manifests === undefined || content === undefined) throw new Error('the builder made no layers');
  const layer = (
    part: LayerPart,
    type: 'manifests' | 'content',
    replacement: Buffer | undefined,
  ): LayerPart => {
    const bytes = replacement ?? part.bytes;
    return {
      bytes,
      mediaType: part.mediaType,
      ...(variation.unannotatedLayer === type || part.annotations === undefined
        ? {}
        : { annotations: part.annotations }),
      ...(type === 'content' && variation.misstateContentSize !== undefined
        ? { declaredSize: bytes.length + variation.misstateContentSize }
        : {}),
    };
  };
  const layers = [
    ...(variation.omitLayer === 'manifests' ? [] : [layer(manifests, 'manifests', variation.manifestsLayer)]),
    ...(variation.omitLayer === 'content' ? [] : [layer(content, 'content', variation.contentLayer)]),
  ];
  if (variation.reverseLayers === true) layers.reverse();
  return assembleArtifact({
    artifactType:
      variation.artifactType === null ? undefined : (variation.artifactType ?? parts.artifactType),
    configMediaType: variation.configMediaType ?? parts.configMediaType,
    config: variation.configBytes ?? parts.config,
    layers,
    annotations: { ...parts.annotations, ...variation.annotations },
  });
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

// Folders that are never packages nor part of one (what `dk build` leaves out, ARTIFACT.md).
const notPackageFolders = new Set(['.git', 'node_modules', '__pycache__', '.venv', '.datakit']);

/** Every directory under `examplesDir` that holds a dk.yaml (reactive-pipeline has one per manifest), by relative name. */
export function examplePackages(examplesDir: string): { name: string; dir: string }[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    if (existsSync(join(dir, 'dk.yaml'))) found.push(dir);
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (!notPackageFolders.has(name) && statSync(path).isDirectory()) walk(path);
    }
  };
  walk(examplesDir);
  return found.sort().map((dir) => ({ name: relative(examplesDir, dir), dir }));
}
