import { AssetHashType, DockerImage, type ILocalBundling } from 'aws-cdk-lib';
import { Code } from 'aws-cdk-lib/aws-lambda';
import { type BuildOptions, buildSync } from 'esbuild';

/**
 * ESM bundles have no `require`; some dependencies still call it for Node built-ins, so every bundle
 * defines one from `import.meta.url`.
 */
const requireBanner =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/**
 * How every function is bundled: the one definition the stacks and the bench use.
 *
 * - ESM, preferring packages' `module` builds, so middy (ESM only), zod and Powertools tree-shake.
 * - Code splitting: `index.mjs` holds what a function loads at init, and each dynamically imported module
 *   (a use case, an adapter, a route's schemas) is a chunk under `chunks/` that Node reads on first use —
 *   so a function's cold start parses only what its first request needs (ADR 0012).
 * - `@aws-sdk/*` and `@smithy/*` stay external: the nodejs22.x runtime provides SDK v3, which keeps
 *   bundles small; everything else (Powertools, middy, zod, yaml) is bundled.
 * - Minified with names kept, so error classes and Powertools log keys stay readable.
 * - Source maps without embedded sources: stack traces map to `lib/...` lines (`--enable-source-maps`)
 *   without shipping the sources a second time.
 */
export function esbuildOptions(entry: string, outdir: string): BuildOptions & { outdir: string } {
  return {
    entryPoints: { index: entry },
    outdir,
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    mainFields: ['module', 'main'],
    banner: { js: requireBanner },
    target: 'node22',
    minify: true,
    keepNames: true,
    sourcemap: true,
    sourcesContent: false,
    external: ['@aws-sdk/*', '@smithy/*'],
    logLevel: 'warning',
  };
}

/** The file of a bundle Lambda loads (`index.handler`). */
export const bundleFileName = 'index.mjs';

/**
 * esbuild on this machine at synth (esbuild is a dependency, so the Docker image CDK would fall back to is
 * never used). The entry is a field: CDK caches bundles within a synth under a key made of the bundling
 * options' fields, and without it every function would get the first one's bundle.
 */
class LocalEsbuild implements ILocalBundling {
  constructor(readonly entry: string) {}

  tryBundle(outputDir: string): boolean {
    buildSync(esbuildOptions(this.entry, outputDir));
    return true;
  }
}

/**
 * A function's code: its entry bundled by `esbuildOptions`, hashed by its output like `NodejsFunction`'s.
 * `NodejsFunction` runs esbuild with `--outfile`, which cannot split; this is the same bundling, split.
 */
export function functionCode(entry: string, projectRoot: string): Code {
  return Code.fromAsset(projectRoot, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      image: DockerImage.fromRegistry('public.ecr.aws/sam/build-nodejs22.x'),
      local: new LocalEsbuild(entry),
    },
  });
}
