import type { ConnectorManifest } from '../../contracts/manifests/connector.js';
import type { DataSetManifest } from '../../contracts/manifests/dataset.js';
import type { DataSetGroupManifest } from '../../contracts/manifests/dataset-group.js';
import { loadManifest } from '../../contracts/manifests/loader.js';
import type { Manifest, ManifestKind } from '../../contracts/manifests/manifest.js';
import type { Problem } from '../../contracts/problem.js';
import { lintManifest } from '../governance/lint.js';

/** The manifests of a package, each loaded against its kind's contract and linted. */
export interface PackageContents {
  /** dk.yaml. */
  readonly manifest: Manifest;
  readonly datasets: readonly Located<DataSetManifest>[];
  readonly connectors: readonly Located<ConnectorManifest>[];
  readonly datasetGroups: readonly Located<DataSetGroupManifest>[];
  /** Loader and lint warnings of every file, paths prefixed with the file. */
  readonly warnings: readonly Problem[];
}

/** A manifest and the package file it came from. */
export interface Located<T> {
  readonly file: string;
  readonly manifest: T;
}

export type PackageContentsResult =
  | { readonly ok: true; readonly contents: PackageContents }
  | { readonly ok: false; readonly problems: readonly Problem[] };

/** Folders whose YAML files are manifests of the package, and the kind each must hold. */
const manifestFolders: ReadonlyArray<readonly [string, ManifestKind]> = [
  ['connector/', 'Connector'],
  ['dataset/', 'DataSet'],
  ['dataset-group/', 'DataSetGroup'],
];

/** Whether a package file is one of the manifests {@link readPackageContents} loads besides dk.yaml. */
export function isPackageManifestPath(path: string): boolean {
  return /\.ya?ml$/.test(path) && manifestFolders.some(([prefix]) => path.startsWith(prefix));
}

/** Bounds on what reading a package's manifests may cost. */
export interface PackageContentsLimits {
  /**
   * Problems (and, separately, warnings) listed at most; one more, `DK_PROBLEMS_TRUNCATED`, says there
   * were others. A rejection is recorded with its problems, so they must fit one storage item. @default 100
   */
  readonly maxProblems: number;
  /**
   * Bytes of YAML parsed in all (dk.yaml and the folder manifests), checked before any is parsed. Parsing
   * and validating hostile YAML (a flow list of 60 000 scalars) costs ~50 MiB and ~3 s per 128 KiB; the
   * largest example package's manifest is under 1 KiB. ADR 0007.
   * @default 128 KiB
   */
  readonly maxManifestBytes: number;
}

export const defaultPackageContentsLimits: PackageContentsLimits = {
  maxProblems: 100,
  maxManifestBytes: 128 * 1024,
};

/** Longest path or message kept in a problem: a manifest key can be as long as the file. */
const maxProblemTextLength = 1024;

/** Problems up to a limit, each clipped, remembering whether any were left out. */
class ProblemList {
  private readonly items: Problem[] = [];
  private truncated = false;

  constructor(private readonly max: number) {}

  /** How many more fit. */
  get room(): number {
    return this.max - this.items.length;
  }

  get isEmpty(): boolean {
    return this.items.length === 0;
  }

  /** Whether some problems were left out. */
  get isTruncated(): boolean {
    return this.truncated;
  }

  add(problems: Iterable<Problem>): void {
    for (const problem of problems) {
      if (this.items.length >= this.max) {
        this.truncated = true;
        return;
      }
      this.items.push(clip(problem));
    }
  }

  list(): Problem[] {
    if (!this.truncated) return this.items;
    return [
      ...this.items,
      {
        code: 'DK_PROBLEMS_TRUNCATED',
        message: `more problems were found than the ${this.max} listed; fix these and register again to see the rest`,
      },
    ];
  }
}

function clip(problem: Problem): Problem {
  const shorten = (text: string) =>
    text.length > maxProblemTextLength ? `${text.slice(0, maxProblemTextLength - 1)}…` : text;
  const message = shorten(problem.message);
  return problem.path === undefined
    ? { ...problem, message }
    : { ...problem, path: shorten(problem.path), message };
}

/**
 * Loads dk.yaml and every YAML file under `connector/`, `dataset/` and `dataset-group/` (never
 * `store/`: Stores belong to Cells) through the manifest contracts and the governance lint. Problems of
 * every file are reported, up to `maxProblems`; a problem's path is `<file>:<field path>`. Manifests over
 * the byte budget are refused as a whole before any is parsed.
 */
export function readPackageContents(
  files: Readonly<Record<string, Buffer>>,
  limits: Partial<PackageContentsLimits> = {},
): PackageContentsResult {
  const { maxManifestBytes, maxProblems } = { ...defaultPackageContentsLimits, ...limits };
  const problems = new ProblemList(maxProblems);
  const warnings = new ProblemList(maxProblems);
  const load = (file: string, bytes: Buffer): Manifest | undefined => {
    // One more than fits, so that the list knows when it truncated.
    const loaded = loadManifest(bytes.toString('utf8'), { file, maxProblems: problems.room + 1 });
    if (!loaded.ok) {
      problems.add(loaded.problems.map((problem) => inFile(file, problem)));
      return undefined;
    }
    warnings.add(loaded.warnings.map((problem) => inFile(file, problem)));
    const lint = lintManifest(loaded.manifest);
    problems.add(lint.errors.map((problem) => inFile(file, problem)));
    warnings.add(lint.warnings.map((problem) => inFile(file, problem)));
    return loaded.manifest;
  };

  const dkYaml = Object.hasOwn(files, 'dk.yaml') ? files['dk.yaml'] : undefined;
  if (dkYaml === undefined) {
    return {
      ok: false,
      problems: [
        { code: 'DK_ARTIFACT_DK_YAML_MISSING', path: 'dk.yaml', message: 'the package has no dk.yaml' },
      ],
    };
  }
  const manifestFiles = Object.keys(files).filter(isPackageManifestPath).sort();
  const manifestBytes = manifestFiles.reduce(
    (total, file) => total + (files[file]?.length ?? 0),
    dkYaml.length,
  );
  if (manifestBytes > maxManifestBytes) {
    return {
      ok: false,
      problems: [
        {
          code: 'DK_PACKAGE_TOO_LARGE',
          message: `the manifests (dk.yaml and ${manifestFiles.length} more) take ${manifestBytes} bytes; at most ${maxManifestBytes} are read`,
        },
      ],
    };
  }
  const manifest = load('dk.yaml', dkYaml);
  if (manifest?.kind === 'Store') {
    problems.add([
      {
        code: 'DK_PACKAGE_KIND_UNSUPPORTED',
        path: 'dk.yaml:kind',
        message:
          'a Store is configured per Cell (PUT /v1/cells/{cell}/stores/{store}), not registered as a package',
      },
    ]);
  }

  const datasets: Located<DataSetManifest>[] =
    manifest?.kind === 'DataSet' ? [{ file: 'dk.yaml', manifest }] : [];
  const connectors: Located<ConnectorManifest>[] = [];
  const datasetGroups: Located<DataSetGroupManifest>[] = [];
  for (const file of manifestFiles) {
    // The verdict is a rejection already and the list overflowed: parsing more would only cost.
    if (problems.isTruncated) break;
    const folder = manifestFolders.find(([prefix]) => file.startsWith(prefix));
    const bytes = files[file];
    if (folder === undefined || bytes === undefined) continue;
    const loaded = load(file, bytes);
    if (loaded === undefined) continue;
    const [prefix, expected] = folder;
    if (loaded.kind === 'DataSet' && expected === 'DataSet') datasets.push({ file, manifest: loaded });
    else if (loaded.kind === 'Connector' && expected === 'Connector')
      connectors.push({ file, manifest: loaded });
    else if (loaded.kind === 'DataSetGroup' && expected === 'DataSetGroup')
      datasetGroups.push({ file, manifest: loaded });
    else {
      problems.add([
        {
          code: 'DK_MANIFEST_KIND_MISPLACED',
          path: `${file}:kind`,
          message: `${file} is a ${loaded.kind}; ${prefix} holds ${expected} manifests only`,
        },
      ]);
    }
  }
  problems.add([
    ...duplicates(
      datasets,
      (d) => `${d.manifest.metadata.namespace ?? ''}/${d.manifest.metadata.name}`,
      'DataSet',
    ),
    ...duplicates(connectors, (c) => c.manifest.metadata.name, 'Connector'),
    ...duplicates(
      datasetGroups,
      (g) => `${g.manifest.metadata.namespace ?? ''}/${g.manifest.metadata.name}`,
      'DataSetGroup',
    ),
  ]);

  if (manifest === undefined || !problems.isEmpty) return { ok: false, problems: problems.list() };
  return {
    ok: true,
    contents: { manifest, datasets, connectors, datasetGroups, warnings: warnings.list() },
  };
}

function duplicates<T extends { readonly file: string }>(
  items: readonly T[],
  identity: (item: T) => string,
  what: string,
): Problem[] {
  const seen = new Map<string, string>();
  const problems: Problem[] = [];
  for (const item of items) {
    const key = identity(item);
    const first = seen.get(key);
    if (first === undefined) seen.set(key, item.file);
    else {
      problems.push({
        code: 'DK_MANIFEST_DUPLICATE',
        path: `${item.file}:metadata.name`,
        message: `${item.file} declares ${what} ${key.replace(/^\//, '')} again (first in ${first})`,
      });
    }
  }
  return problems;
}

/** Prefixes a problem's path with the file it is in. */
export function inFile(file: string, problem: Problem): Problem {
  return { ...problem, path: problem.path === undefined ? file : `${file}:${problem.path}` };
}
