/** Who reports a code: the loader (contract = the JSON Schemas), `lintManifest` (rules beyond them), or nobody yet. */
export type CodeSource = 'loader' | 'lint' | 'reserved';

export interface CodeInfo {
  readonly severity: 'error' | 'warning';
  readonly source: CodeSource;
  readonly description: string;
}

/**
 * Every problem code a manifest can produce. `E`/`W` codes are `dk lint`'s, reused so users see the same codes
 * in the CLI and the control plane; `DK_*` codes are the control plane's own; `G*` codes are governance rules.
 */
export const manifestCodes = {
  DK_YAML_INVALID: {
    severity: 'error',
    source: 'loader',
    description: 'The file is not valid YAML (the message gives line and column).',
  },
  DK_YAML_MULTIPLE_DOCUMENTS: {
    severity: 'error',
    source: 'loader',
    description: 'The file holds more than one YAML document; a manifest file holds exactly one.',
  },
  DK_YAML_NOT_MAPPING: {
    severity: 'error',
    source: 'loader',
    description: 'The document is empty or is not a mapping (key: value) at the top level.',
  },
  DK_YAML_WARNING: {
    severity: 'warning',
    source: 'loader',
    description: 'The YAML parser accepted the file but flagged something (an unknown tag, for example).',
  },
  DK_API_VERSION: {
    severity: 'error',
    source: 'loader',
    description: 'apiVersion is missing or is not datakit.infoblox.dev/v1alpha1.',
  },
  DK_UNKNOWN_FIELD: {
    severity: 'error',
    source: 'loader',
    description: 'A field the schema does not allow at that place (often a typo).',
  },
  DK_SCHEMA: {
    severity: 'error',
    source: 'loader',
    description: 'Any other schema violation: a missing field, a wrong type, a value outside an enum.',
  },
  E001: {
    severity: 'error',
    source: 'loader',
    description: 'metadata.name is missing or not DNS-safe (^[a-z][a-z0-9-]{0,62}$).',
  },
  E002: {
    severity: 'error',
    source: 'loader',
    description: 'kind is missing or not one of Transform, DataSet, DataSetGroup, Connector, Store.',
  },
  E003: {
    severity: 'error',
    source: 'reserved',
    description:
      "Outputs required: dk's package-level alias of E231; the loader reports E231 for Transforms.",
  },
  E004: {
    severity: 'warning',
    source: 'lint',
    description: 'A DataSet has no spec.classification (a warning: the JSON Schema makes it optional).',
  },
  E020: {
    severity: 'error',
    source: 'loader',
    description: 'A version (metadata.version, Connector spec.version) is not valid semver.',
  },
  E021: {
    severity: 'error',
    source: 'reserved',
    description: 'The version already exists with other content (checked at registration, not here).',
  },
  E030: {
    severity: 'error',
    source: 'loader',
    description: 'spec.image is not a valid image reference (the schema only requires a string).',
  },
  E031: {
    severity: 'error',
    source: 'loader',
    description: 'spec.timeout is not a duration such as 30s, 10m or 2h.',
  },
  E040: {
    severity: 'error',
    source: 'loader',
    description: 'spec.runtime is missing or not one of cloudquery, generic-go, generic-python, dbt.',
  },
  E041: {
    severity: 'error',
    source: 'reserved',
    description:
      "Image required for generic runtimes: dk's package-level alias of E232; the loader reports E232.",
  },
  E200: {
    severity: 'error',
    source: 'loader',
    description: 'Connector spec.type is missing or not a string.',
  },
  E201: {
    severity: 'error',
    source: 'loader',
    description: 'Connector spec.capabilities is missing, empty, repeated or not source/destination.',
  },
  E210: {
    severity: 'error',
    source: 'loader',
    description: 'Store spec.connector is missing or not a string.',
  },
  E211: {
    severity: 'error',
    source: 'loader',
    description: 'Store spec.connection is missing, not a mapping, or empty.',
  },
  E212: {
    severity: 'error',
    source: 'loader',
    description: `A Store spec.secrets value is not a string holding a \${VAR} reference.`,
  },
  E220: {
    severity: 'error',
    source: 'loader',
    description: 'DataSet spec.store is missing or not a string.',
  },
  E221: {
    severity: 'error',
    source: 'loader',
    description: 'A DataSet has none of spec.table, spec.prefix, spec.topic.',
  },
  E222: {
    severity: 'error',
    source: 'loader',
    description: 'DataSet spec.schema is not a list of fields each with a name and a type.',
  },
  E230: {
    severity: 'error',
    source: 'loader',
    description: 'Transform spec.inputs is missing or empty, or an input names neither a dataset nor tags.',
  },
  E231: {
    severity: 'error',
    source: 'loader',
    description: 'Transform spec.outputs is missing or empty, or an output names neither a dataset nor tags.',
  },
  E232: {
    severity: 'error',
    source: 'loader',
    description: 'Transform spec.image is required for the generic-go, generic-python and dbt runtimes.',
  },
  E240: {
    severity: 'error',
    source: 'loader',
    description: 'DataSetGroup spec.store is missing or not a string.',
  },
  E241: {
    severity: 'error',
    source: 'loader',
    description: 'DataSetGroup spec.datasets is missing, empty, or lists a DataSet twice.',
  },
  E310: {
    severity: 'error',
    source: 'lint',
    description: 'A DataSet sets both spec.schema and spec.schemaRef; they are mutually exclusive.',
  },
  E311: {
    severity: 'error',
    source: 'loader',
    description: 'DataSet spec.schemaRef is not module or module@constraint (^[a-z][a-z0-9-]*(@.+)?$).',
  },
  E312: {
    severity: 'error',
    source: 'reserved',
    description: 'dk.lock has no entry for the schemaRef (needs the lock file; not checked here).',
  },
  E313: {
    severity: 'error',
    source: 'reserved',
    description: 'dk.lock checksum does not match the resolved schema (not checked here).',
  },
  E314: {
    severity: 'error',
    source: 'reserved',
    description: 'Breaking schema change between the locked and current version (not checked here).',
  },
  W209: {
    severity: 'warning',
    source: 'lint',
    description: 'A batch Transform has no spec.trigger; it will only ever run manually.',
  },
  G001: {
    severity: 'error',
    source: 'lint',
    description: 'A DataSet with a pii: true field must be classified confidential or restricted.',
  },
} as const satisfies Record<string, CodeInfo>;

export type ManifestCode = keyof typeof manifestCodes;
