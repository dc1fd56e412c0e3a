import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack } from 'tar-stream';
import type { DistributionClient } from '../../lib/adapters/oci/distribution-client.js';
import {
  assembleArtifact,
  type BuiltArtifact,
  type LayerPart,
  type PackageMetadata,
  packageArtifactParts,
  pushArtifact,
} from '../../lib/adapters/oci/package-builder.js';
import type { RegistryCode } from '../../lib/domain/registry/codes.js';
import { defaultPackageContentsLimits } from '../../lib/domain/registry/package-contents.js';
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
  return streamedTarGz([{ name: 'bomb.bin', zeros: size }]);
}

/** A tar entry whose contents are given, or are `zeros` zero bytes generated while packing. */
export type StreamedEntry =
  | { readonly name: string; readonly contents: string | Buffer }
  | { readonly name: string; readonly zeros: number };

/**
 * Packs entries into a gzip-compressed tar (level 9) as a stream, so that a layer inflating to hundreds
 * of MiB is built without ever holding it inflated; `entries` may be a generator.
 */
export async function streamedTarGz(entries: Iterable<StreamedEntry>): Promise<Buffer> {
  const packer = pack();
  const chunks: Buffer[] = [];
  const compressed = pipeline(packer, createGzip({ level: 9 }), async (gzipped: AsyncIterable<Buffer>) => {
    for await (const chunk of gzipped) chunks.push(chunk);
  });
  const zeros = Buffer.alloc(1024 * 1024);
  for (const entry of entries) {
    const header = { name: entry.name, mode: 0o644, mtime: new Date(0) };
    if ('contents' in entry) {
      await new Promise<void>((resolve, reject) =>
        packer.entry(header, Buffer.from(entry.contents), (error) => (error ? reject(error) : resolve())),
      );
      continue;
    }
    const written = new Promise<void>((resolve, reject) => {
      const stream = packer.entry({ ...header, size: entry.zeros }, (error) =>
        error ? reject(error) : resolve(),
      );
      void (async () => {
        let left = entry.zeros;
        for (; left > zeros.length; left -= zeros.length) {
          if (!stream.write(zeros))
            await new Promise<void>((drained) => stream.once('drain', () => drained()));
        }
        stream.end(zeros.subarray(0, left));
      })();
    });
    await written;
  }
  packer.finalize();
  await compressed;
  return Buffer.concat(chunks);
}

const MiB = 1024 * 1024;

/** One entry of the corpus of hostile content layers. */
export interface HostileLayer {
  readonly name: string;
  /** What it is and why it is in the corpus. */
  readonly description: string;
  /** Builds the content layer: a gzip-compressed tar. */
  build(): Promise<Buffer>;
  /** What reading it must give with the default limits: the problem code, or `accepted`. */
  readonly expected: RegistryCode | 'accepted';
}

/** A DataSet manifest of about 600 bytes, valid on its own. */
function smallDataSet(name: string): string {
  return `apiVersion: datakit.infoblox.dev/v1alpha1
kind: DataSet
metadata:
  name: ${name}
  namespace: sales
  version: 1.0.0
  labels: { team: sales-data, tier: bronze }
spec:
  store: warehouse
  table: sales.${name.replaceAll('-', '_')}
  classification: internal
  schema:
    - { name: order_id, type: string }
    - { name: customer_id, type: string }
    - { name: amount, type: decimal }
    - { name: currency, type: string }
    - { name: created_at, type: timestamp }
    - { name: updated_at, type: timestamp }
    - { name: channel, type: string }
    - { name: region, type: string }
`;
}

/** The YAML a registration parses, less 4 KiB for dk.yaml. */
const yamlBudgetLeft = defaultPackageContentsLimits.maxManifestBytes - 4096;

/** A valid DataSet manifest of about `bytes` bytes: one column per line. */
function wideDataSet(name: string, bytes: number): string {
  const head = smallDataSet(name);
  const lines: string[] = [head];
  let size = head.length;
  for (let index = 0; size < bytes - 64; index++) {
    const line = `    - { name: column_${index}, type: string }\n`;
    lines.push(line);
    size += line.length;
  }
  return lines.join('');
}

/**
 * Content layers that cost far more to read than they weigh (issue 7: decompression is bounded by what
 * we keep). The registration reads only the manifests of a content layer; everything else must be read
 * past without being kept, within the inflated-bytes, entry and kept-bytes caps of the archive reader.
 */
export const hostileContentLayers: readonly HostileLayer[] = [
  {
    name: 'inflation-7x32mib',
    description:
      'the issue-7 reproduction: seven 32 MiB files of zeros under src/, ~228 KB compressed, 224 MiB inflated',
    build: () =>
      streamedTarGz(
        Array.from({ length: 7 }, (_, index) => ({ name: `src/blob-${index}.bin`, zeros: 32 * MiB })),
      ),
    expected: 'DK_ARCHIVE_TOO_LARGE',
  },
  {
    name: 'inflation-one-224mib-file',
    description: 'one 224 MiB file of zeros under src/',
    build: () => streamedTarGz([{ name: 'src/zeros.bin', zeros: 224 * MiB }]),
    expected: 'DK_ARCHIVE_TOO_LARGE',
  },
  {
    name: 'manifest-named-224mib',
    description: 'the bomb inside a file named like a manifest (dataset/zeros.yaml), 224 MiB of zeros',
    build: () => streamedTarGz([{ name: 'dataset/zeros.yaml', zeros: 224 * MiB }]),
    expected: 'DK_ARCHIVE_TOO_LARGE',
  },
  {
    name: 'manifest-named-32mib',
    description:
      'a 32 MiB manifest-named file of zeros: under the old per-file limit, so it was kept and parsed',
    build: () => streamedTarGz([{ name: 'dataset/zeros.yaml', zeros: 32 * MiB }]),
    expected: 'DK_ARCHIVE_TOO_LARGE',
  },
  {
    name: 'many-entries-20k',
    description: '20 000 empty files under src/: more entries than the reader walks',
    build: () =>
      streamedTarGz(
        (function* () {
          for (let index = 0; index < 20_000; index++) yield { name: `src/f-${index}.txt`, contents: '' };
        })(),
      ),
    expected: 'DK_ARCHIVE_TOO_MANY_ENTRIES',
  },
  {
    name: 'many-manifests-8k',
    description:
      '8 000 valid DataSet manifests of ~600 bytes (~4.8 MB kept): more manifest bytes than are kept',
    build: () =>
      streamedTarGz(
        (function* () {
          for (let index = 0; index < 8_000; index++) {
            yield { name: `dataset/d-${index}.yaml`, contents: smallDataSet(`d-${index}`) };
          }
        })(),
      ),
    expected: 'DK_ARCHIVE_TOO_LARGE',
  },
  {
    name: 'largest-manifests',
    description:
      'four valid DataSet manifests of just under 1 MiB each: the kept-bytes caps reached, far over the YAML parse budget',
    build: () =>
      streamedTarGz(
        Array.from({ length: 4 }, (_, index) => ({
          name: `dataset/wide-${index}.yaml`,
          contents: wideDataSet(`wide-${index}`, MiB - 1024),
        })),
      ),
    expected: 'accepted',
  },
  {
    name: 'manifests-at-parse-budget',
    description: 'two valid DataSet manifests that fill the YAML a registration parses (dk.yaml aside)',
    build: () =>
      streamedTarGz(
        Array.from({ length: 2 }, (_, index) => ({
          name: `dataset/wide-${index}.yaml`,
          contents: wideDataSet(`wide-${index}`, yamlBudgetLeft / 2),
        })),
      ),
    expected: 'accepted',
  },
  {
    name: 'hostile-yaml-at-parse-budget',
    description:
      'one DataSet filling the YAML parse budget with a flow list of ones as its schema: one problem per item',
    build: () =>
      streamedTarGz([
        {
          name: 'dataset/hostile.yaml',
          contents: `apiVersion: datakit.infoblox.dev/v1alpha1\nkind: DataSet\nmetadata: { name: hostile }\nspec: { store: s, table: t, schema: [${'1,'.repeat((yamlBudgetLeft - 200) / 2)}1] }\n`,
        },
      ]),
    expected: 'accepted',
  },
  {
    name: 'large-file-48mib',
    description:
      'a 48 MiB data file (zeros) beside a DataSet manifest: under the inflated cap, read past, never kept',
    build: () =>
      streamedTarGz([
        { name: 'dataset/daily-orders.yaml', contents: smallDataSet('daily-orders') },
        { name: 'tests/fixtures/orders.bin', zeros: 48 * MiB },
      ]),
    expected: 'accepted',
  },
  {
    name: 'incompressible-15mib',
    description: '15 MiB of random bytes: a layer as large compressed as inflated, under the layer limit',
    build: () => streamedTarGz([{ name: 'tests/fixtures/random.bin', contents: randomBytes(15 * MiB) }]),
    expected: 'accepted',
  },
];

/** The corpus entry called `name`. */
export function hostileContentLayer(name: string): HostileLayer {
  const found = hostileContentLayers.find((layer) => layer.name === name);
  if (found === undefined) throw new Error(`no hostile content layer ${name}`);
  return found;
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
