import { type BundlingOptions, LogLevel, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';

/**
 * ESM bundles have no `require`; some dependencies still call it for Node built-ins, so every bundle
 * defines one from `import.meta.url`.
 */
const requireBanner =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/**
 * How every function is bundled: the one definition the stacks (`NodejsFunction`) and the bench use.
 *
 * - ESM, preferring packages' `module` builds, so middy (ESM only), zod and Powertools tree-shake.
 * - `@aws-sdk/*` and `@smithy/*` stay external: the nodejs22.x runtime provides SDK v3, which keeps
 *   bundles small; everything else (Powertools, middy, zod, yaml) is bundled.
 * - Minified with names kept, so error classes and Powertools log keys stay readable.
 * - Source maps without embedded sources: stack traces map to `lib/...` lines (`--enable-source-maps`)
 *   without shipping the sources a second time.
 */
export const functionBundling = {
  format: OutputFormat.ESM,
  mainFields: ['module', 'main'],
  banner: requireBanner,
  target: 'node22',
  minify: true,
  keepNames: true,
  sourceMap: true,
  sourcesContent: false,
  externalModules: ['@aws-sdk/*', '@smithy/*'],
  logLevel: LogLevel.WARNING,
  forceDockerBundling: false,
} as const satisfies BundlingOptions;

/** The file `NodejsFunction` writes for an ESM bundle. */
export const bundleFileName = functionBundling.format === OutputFormat.ESM ? 'index.mjs' : 'index.js';

/**
 * The esbuild API options equivalent to the command line `NodejsFunction` runs with `functionBundling`
 * (`esbuild --bundle <entry> --platform=node --outfile=<outfile> ...`), for tools that bundle the same
 * way outside a synth.
 */
export function esbuildOptions(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: functionBundling.format === OutputFormat.ESM ? 'esm' : 'cjs',
    mainFields: [...functionBundling.mainFields],
    banner: { js: functionBundling.banner },
    target: functionBundling.target,
    minify: functionBundling.minify,
    keepNames: functionBundling.keepNames,
    sourcemap: functionBundling.sourceMap,
    sourcesContent: functionBundling.sourcesContent,
    external: [...functionBundling.externalModules],
    logLevel: 'warning',
  };
}
