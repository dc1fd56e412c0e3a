import type { Manifest } from '../../contracts/manifests/manifest.js';
import type { Problem } from '../../contracts/problem.js';
import { checkBatchTrigger } from './batch-trigger.js';
import { checkClassificationPresent, checkPiiClassification } from './classification.js';
import { checkSchemaSource } from './schema-source.js';

/** What `lintManifest` found: errors refuse the manifest, warnings are recorded and shown. */
export interface LintResult {
  readonly errors: Problem[];
  readonly warnings: Problem[];
}

/** Applies the rules beyond the JSON Schemas (governance and `dk lint` checks) to a manifest that already loaded. */
export function lintManifest(manifest: Manifest): LintResult {
  switch (manifest.kind) {
    case 'DataSet': {
      const errors = [...checkPiiClassification(manifest), ...checkSchemaSource(manifest)];
      // G001 already names the missing classification of a PII DataSet; E004 on top would repeat it.
      const warnings = errors.some((error) => error.code === 'G001')
        ? []
        : checkClassificationPresent(manifest);
      return { errors, warnings };
    }
    case 'Transform':
      return { errors: [], warnings: checkBatchTrigger(manifest) };
    case 'DataSetGroup':
    case 'Connector':
    case 'Store':
      return { errors: [], warnings: [] };
  }
}
