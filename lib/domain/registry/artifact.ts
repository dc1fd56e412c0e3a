import * as z from 'zod';
import { manifestKinds } from '../../contracts/manifests/kinds.js';
import type { Problem } from '../../contracts/problem.js';
import {
  type ArtifactSource,
  type BlobDescriptor,
  BlobIntegrityError,
  BlobTooLargeError,
} from '../../ports/artifact-source.js';
import { ArchiveError, type ArchiveLimits, type KeepFile, readTarGz } from './archive.js';
import type { RegistryCode } from './codes.js';
import { isPackageManifestPath } from './package-contents.js';
import { type ArtifactReference, parseReference } from './reference.js';

export const dkPackageArtifactType = 'application/vnd.infoblox.dk.package.v1';
export const dkConfigMediaType = 'application/vnd.infoblox.dk.config.v1+json';
export const dkManifestsLayerMediaType = 'application/vnd.infoblox.dk.manifest.v1+yaml';
export const dkContentLayerMediaType = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const dkLayerTypeAnnotation = 'io.infoblox.dk.layer.type';
const ociImageManifestMediaType = 'application/vnd.oci.image.manifest.v1+json';

/**
 * Bounds for one artifact read; the archive limits apply to each layer separately. With the defaults a
 * read holds at most the two compressed layers (fetched whole, then digest-checked) and 4 MiB of kept
 * files per layer, whatever the artifact inflates to (docs/adr/0007-bounded-artifact-reads.md).
 */
export interface PackageArtifactLimits {
  /** @default 4 MiB */
  readonly maxManifestBytes: number;
  /** @default 1 MiB */
  readonly maxConfigBytes: number;
  /** Compressed size of each layer blob, held in memory while it is read. @default 16 MiB */
  readonly maxLayerBytes: number;
  /** Passed to the archive reader for each layer. @default the reader's defaults, `maxCompressedBytes` = `maxLayerBytes` */
  readonly archive: Partial<ArchiveLimits>;
}

export const defaultPackageArtifactLimits: PackageArtifactLimits = {
  maxManifestBytes: 4 * 1024 * 1024,
  maxConfigBytes: 1024 * 1024,
  maxLayerBytes: 16 * 1024 * 1024,
  archive: {},
};

/**
 * The files of the content layer a registration reads: the manifests under connector/, dataset/ and
 * dataset-group/, plus what the manifests layer holds (dk.yaml, schemas/) so that a copy disagreeing with
 * it is still caught. Everything else (source, tests, data) is read past without being kept.
 */
export function isKeptFromContentLayer(path: string): boolean {
  return isPackageManifestPath(path) || path === 'dk.yaml' || path.startsWith('schemas/');
}

const digestSchema = z.string().regex(/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/);

const descriptorSchema = z.object({
  mediaType: z.string().min(1),
  digest: digestSchema,
  size: z.number().int().nonnegative(),
  annotations: z.record(z.string(), z.string()).optional(),
});

const imageManifestSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  artifactType: z.string().optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema),
  annotations: z.record(z.string(), z.string()).optional(),
});

/** The config blob `dk build` writes: the parsed dk.yaml, its kind, and where it was built. */
export const packageConfigSchema = z.object({
  manifest: z.record(z.string(), z.unknown()),
  kind: z.enum(manifestKinds),
  buildInfo: z.looseObject({
    timestamp: z.string().min(1),
    builder: z.string().min(1),
    gitCommit: z.string().optional(),
    gitBranch: z.string().optional(),
    gitTag: z.string().optional(),
    host: z.string().optional(),
  }),
});

export type PackageConfig = z.infer<typeof packageConfigSchema>;

/** A package artifact whose every byte was verified against the manifest digest chain. */
export interface PackageArtifact {
  readonly ok: true;
  /** Digest of the manifest: the artifact's immutable identity. */
  readonly digest: string;
  /** Manifest annotations (`org.opencontainers.image.version`, `io.infoblox.dk.kind`, ...). */
  readonly annotations: Readonly<Record<string, string>>;
  readonly config: PackageConfig;
  /**
   * By normalised path, no prototype: every file of the manifests layer (`dk.yaml`, `schemas/x.json`) and
   * the files of the content layer that {@link isKeptFromContentLayer} selects (`dataset/y.yaml`).
   */
  readonly files: Readonly<Record<string, Buffer>>;
}

/** An artifact refused for the listed reasons; `digest` is known once the manifest was read. */
export interface RejectedArtifact {
  readonly ok: false;
  readonly digest?: string;
  readonly problems: readonly Problem[];
}

export type PackageArtifactResult = PackageArtifact | RejectedArtifact;

type ImageManifest = z.infer<typeof imageManifestSchema>;
type Descriptor = z.infer<typeof descriptorSchema>;

/**
 * Reads a DataKit package artifact: verifies the manifest, config and layers, and unpacks the manifests
 * layer and the manifests of the content layer.
 * Refusals come back as problems; infrastructure failures (registry down, not found, auth) are thrown.
 */
export async function readPackageArtifact(
  source: ArtifactSource,
  reference: ArtifactReference | string,
  limits: Partial<PackageArtifactLimits> = {},
): Promise<PackageArtifactResult> {
  const bounds: PackageArtifactLimits = { ...defaultPackageArtifactLimits, ...limits };
  const ref = typeof reference === 'string' ? parseReference(reference) : reference;

  let fetched: Awaited<ReturnType<ArtifactSource['getManifest']>>;
  try {
    fetched = await source.getManifest(ref, { maxBytes: bounds.maxManifestBytes });
  } catch (error) {
    const problem = blobProblem(error, 'manifest', 'DK_BLOB_TOO_LARGE');
    if (problem === undefined) throw error;
    return rejected(undefined, [problem]);
  }
  const { digest } = fetched;

  const checked = checkManifest(fetched.mediaType, fetched.json);
  if (!checked.ok) return rejected(digest, checked.problems);
  const manifest = checked.manifest;

  const layers = findLayers(manifest.layers);
  if (!layers.ok) return rejected(digest, layers.problems);

  // The three blobs are independent: fetch them concurrently (one registry round trip, not three).
  const [config, manifestsFiles, contentFiles] = await Promise.all([
    readConfig(source, ref, manifest.config, bounds.maxConfigBytes),
    readLayer(source, ref, layers.manifests, bounds, () => true),
    layers.content === undefined
      ? { ok: true as const, files: new Map<string, Buffer>() }
      : readLayer(source, ref, layers.content, bounds, isKeptFromContentLayer),
  ]);
  if (!config.ok) return rejected(digest, config.problems);
  if (!manifestsFiles.ok) return rejected(digest, manifestsFiles.problems);
  if (!manifestsFiles.files.has('dk.yaml')) {
    return rejected(digest, [
      problem('DK_ARTIFACT_DK_YAML_MISSING', 'the manifests layer holds no dk.yaml', layers.manifests.path),
    ]);
  }
  if (!contentFiles.ok) return rejected(digest, contentFiles.problems);

  const merged = mergeLayers(manifestsFiles.files, contentFiles.files, layers.content?.path ?? 'layers');
  if (merged.problems.length > 0) return rejected(digest, merged.problems);

  return {
    ok: true,
    digest,
    annotations: manifest.annotations ?? {},
    config: config.config,
    files: merged.files,
  };
}

function checkManifest(
  mediaType: string,
  json: unknown,
): { ok: true; manifest: ImageManifest } | { ok: false; problems: Problem[] } {
  const declared =
    typeof json === 'object' && json !== null && 'mediaType' in json ? json.mediaType : undefined;
  const effective = typeof declared === 'string' ? declared : mediaType;
  if (effective !== ociImageManifestMediaType) {
    return {
      ok: false,
      problems: [
        problem(
          'DK_ARTIFACT_NOT_IMAGE_MANIFEST',
          `the manifest media type is ${JSON.stringify(effective)}, expected ${ociImageManifestMediaType}`,
          'mediaType',
        ),
      ],
    };
  }
  const parsed = imageManifestSchema.safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) =>
        problem('DK_ARTIFACT_MANIFEST_INVALID', issue.message, dottedPath(issue.path)),
      ),
    };
  }
  const manifest = parsed.data;
  const problems: Problem[] = [];
  if (manifest.artifactType !== dkPackageArtifactType) {
    problems.push(
      problem(
        'DK_ARTIFACT_TYPE_INVALID',
        `artifactType is ${JSON.stringify(manifest.artifactType ?? null)}, expected ${dkPackageArtifactType}`,
        'artifactType',
      ),
    );
  }
  if (manifest.config.mediaType !== dkConfigMediaType) {
    problems.push(
      problem(
        'DK_ARTIFACT_CONFIG_MEDIA_TYPE',
        `the config media type is ${JSON.stringify(manifest.config.mediaType)}, expected ${dkConfigMediaType}`,
        'config.mediaType',
      ),
    );
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, manifest };
}

interface LocatedLayer {
  readonly descriptor: Descriptor;
  readonly path: string;
}

function findLayers(
  layers: readonly Descriptor[],
):
  | { ok: true; manifests: LocatedLayer; content: LocatedLayer | undefined }
  | { ok: false; problems: Problem[] } {
  const located = layers.map((descriptor, index) => ({ descriptor, path: `layers[${index}]` }));
  const ofType = (mediaType: string, layerType: string) =>
    located.filter(
      ({ descriptor }) =>
        descriptor.mediaType === mediaType && descriptor.annotations?.[dkLayerTypeAnnotation] === layerType,
    );
  const manifests = ofType(dkManifestsLayerMediaType, 'manifests');
  const content = ofType(dkContentLayerMediaType, 'content');
  const problems: Problem[] = [];
  for (const [name, matches] of [
    ['manifests', manifests],
    ['content', content],
  ] as const) {
    for (const duplicate of matches.slice(1)) {
      problems.push(
        problem('DK_ARTIFACT_LAYER_DUPLICATE', `more than one layer has layer type ${name}`, duplicate.path),
      );
    }
  }
  const [first] = manifests;
  if (first === undefined) {
    problems.push(
      problem(
        'DK_ARTIFACT_MANIFESTS_LAYER_MISSING',
        `no layer has media type ${dkManifestsLayerMediaType} and annotation ${dkLayerTypeAnnotation}: manifests`,
        'layers',
      ),
    );
  }
  if (first === undefined || problems.length > 0) return { ok: false, problems };
  return { ok: true, manifests: first, content: content[0] };
}

async function readConfig(
  source: ArtifactSource,
  ref: ArtifactReference,
  descriptor: Descriptor,
  maxBytes: number,
): Promise<{ ok: true; config: PackageConfig } | { ok: false; problems: Problem[] }> {
  let bytes: Buffer;
  try {
    bytes = await source.getBlob(ref, descriptor, { maxBytes });
  } catch (error) {
    const found = blobProblem(error, 'config', 'DK_BLOB_TOO_LARGE');
    if (found === undefined) throw error;
    return { ok: false, problems: [found] };
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    return {
      ok: false,
      problems: [problem('DK_ARTIFACT_CONFIG_INVALID', 'the config blob is not JSON', 'config')],
    };
  }
  const parsed = packageConfigSchema.safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) =>
        problem('DK_ARTIFACT_CONFIG_INVALID', issue.message, dottedPath(['config', ...issue.path])),
      ),
    };
  }
  return { ok: true, config: parsed.data };
}

async function readLayer(
  source: ArtifactSource,
  ref: ArtifactReference,
  layer: LocatedLayer,
  bounds: PackageArtifactLimits,
  keep: KeepFile,
): Promise<{ ok: true; files: Map<string, Buffer> } | { ok: false; problems: Problem[] }> {
  let bytes: Buffer;
  try {
    bytes = await source.getBlob(ref, layer.descriptor satisfies BlobDescriptor, {
      maxBytes: bounds.maxLayerBytes,
    });
  } catch (error) {
    const found = blobProblem(error, layer.path, 'DK_ARCHIVE_TOO_LARGE');
    if (found === undefined) throw error;
    return { ok: false, problems: [found] };
  }
  try {
    const limits = { maxCompressedBytes: bounds.maxLayerBytes, ...bounds.archive };
    return { ok: true, files: await readTarGz(bytes, limits, keep) };
  } catch (error) {
    if (!(error instanceof ArchiveError)) throw error;
    return { ok: false, problems: [problem(error.code, error.message, layer.path)] };
  }
}

function mergeLayers(
  manifests: ReadonlyMap<string, Buffer>,
  content: ReadonlyMap<string, Buffer>,
  contentPath: string,
): { files: Record<string, Buffer>; problems: Problem[] } {
  // A null prototype keeps paths such as `constructor` or `__proto__` from colliding with Object members.
  const files: Record<string, Buffer> = Object.create(null);
  const problems: Problem[] = [];
  for (const [path, bytes] of manifests) files[path] = bytes;
  for (const [path, bytes] of content) {
    const existing = Object.hasOwn(files, path) ? files[path] : undefined;
    if (existing !== undefined && !existing.equals(bytes)) {
      problems.push(
        problem(
          'DK_ARTIFACT_FILE_CONFLICT',
          `${path} differs between the manifests and content layers`,
          contentPath,
        ),
      );
      continue;
    }
    files[path] = bytes;
  }
  return { files, problems };
}

/** Maps a size or integrity failure of a fetched blob to a problem; anything else is not the artifact's fault. */
function blobProblem(error: unknown, path: string, tooLargeCode: RegistryCode): Problem | undefined {
  if (error instanceof BlobTooLargeError) return problem(tooLargeCode, error.message, path);
  if (error instanceof BlobIntegrityError)
    return problem('DK_ARTIFACT_BLOB_DIGEST_MISMATCH', error.message, path);
  return undefined;
}

function rejected(digest: string | undefined, problems: readonly Problem[]): RejectedArtifact {
  return digest === undefined ? { ok: false, problems } : { ok: false, digest, problems };
}

function problem(code: RegistryCode, message: string, path?: string): Problem {
  return path === undefined ? { code, message } : { code, message, path };
}

function dottedPath(path: readonly PropertyKey[]): string {
  return path
    .map((segment, index) => {
      if (typeof segment === 'number') return `[${segment}]`;
      return index === 0 ? String(segment) : `.${String(segment)}`;
    })
    .join('');
}

/**
 * The compressed content layer of a registered artifact (a local runner unpacks it as the Transform's
 * working directory); undefined when the artifact has none. The artifact was verified at registration;
 * the digest reference makes the registry return exactly those bytes again.
 */
export async function fetchContentLayer(
  source: ArtifactSource,
  reference: ArtifactReference | string,
  maxBytes: number,
): Promise<Buffer | undefined> {
  const ref = typeof reference === 'string' ? parseReference(reference) : reference;
  const fetched = await source.getManifest(ref, { maxBytes: defaultPackageArtifactLimits.maxManifestBytes });
  const manifest = imageManifestSchema.safeParse(fetched.json);
  if (!manifest.success) return undefined;
  const layers = findLayers(manifest.data.layers);
  if (!layers.ok || layers.content === undefined) return undefined;
  return source.getBlob(ref, layers.content.descriptor, { maxBytes });
}
