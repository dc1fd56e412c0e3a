import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The seed system's reference material (JSON Schemas, examples, OpenLineage spec), used only by the
 * conformance suite as an oracle. Fails loudly when it is missing rather than passing vacuously.
 */
export function specDir(): string {
  const dir = resolve(process.env.DATAKIT_SPEC_DIR ?? '../shared');
  if (!existsSync(resolve(dir, 'datakit/schemas'))) {
    throw new Error(
      `conformance suite: reference material not found at ${dir} (set DATAKIT_SPEC_DIR to the shared/ folder)`,
    );
  }
  return dir;
}
