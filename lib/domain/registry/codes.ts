/**
 * Stable codes for everything that can go wrong between an artifact reference and verified package files.
 * Clients, logs and dashboards match on these strings, so a code is never renamed or reused for another meaning.
 */
export const registryCodes = {
  /** The reference is not `<registry>/<repository>:<tag>` or `<registry>/<repository>@sha256:<64 hex>`. */
  DK_REF_INVALID: 'The artifact reference is malformed.',

  /** The registry answered 5xx or 429, or could not be reached in time; retrying may succeed. */
  DK_REGISTRY_UNAVAILABLE: 'The registry is unavailable; retry later.',
  /** The registry refused our credentials, or we had none to offer. */
  DK_REGISTRY_AUTH: 'The registry refused access.',
  /**
   * A host the registry would have us dial (itself, a redirect target, a token realm) is not allowed:
   * not on the allowlist or the blob and token hosts, plain http, or a private address.
   */
  REGISTRY_HOST_NOT_ALLOWED: 'The registry sent us to a host that is not allowed.',
  /** The registry answered in a way the OCI distribution spec does not allow. */
  DK_REGISTRY_PROTOCOL: 'The registry sent an unexpected response.',
  /** The manifest or blob does not exist in the registry. */
  DK_ARTIFACT_NOT_FOUND: 'The artifact does not exist in the registry.',
  /** A blob or manifest is bigger than the limit the caller allowed. */
  DK_BLOB_TOO_LARGE: 'A blob exceeds the size limit.',
  /** The bytes received do not hash to the digest they were addressed by. */
  DK_BLOB_DIGEST_MISMATCH: 'A blob does not match its digest.',
  /** The bytes received are not as many as the descriptor declares. */
  DK_BLOB_SIZE_MISMATCH: 'A blob does not match its declared size.',

  /** The manifest is not an OCI image manifest (an index, a Docker manifest, or not JSON). */
  DK_ARTIFACT_NOT_IMAGE_MANIFEST: 'The artifact is not an OCI image manifest.',
  /** The manifest is an OCI image manifest that breaks the OCI schema (missing config, bad descriptor...). */
  DK_ARTIFACT_MANIFEST_INVALID: 'The OCI image manifest is malformed.',
  /** `artifactType` is missing or is not `application/vnd.infoblox.dk.package.v1`. */
  DK_ARTIFACT_TYPE_INVALID: 'The artifact is not a DataKit package.',
  /** The config descriptor's media type is not `application/vnd.infoblox.dk.config.v1+json`. */
  DK_ARTIFACT_CONFIG_MEDIA_TYPE: 'The artifact config has the wrong media type.',
  /** The config blob is not JSON of the shape `{ manifest, kind, buildInfo }`. */
  DK_ARTIFACT_CONFIG_INVALID: 'The artifact config is malformed.',
  /** No layer has the manifests media type and `io.infoblox.dk.layer.type: manifests`. */
  DK_ARTIFACT_MANIFESTS_LAYER_MISSING: 'The artifact has no manifests layer.',
  /** Two layers claim the same layer type, so which one to trust is ambiguous. */
  DK_ARTIFACT_LAYER_DUPLICATE: 'The artifact has two layers of the same type.',
  /** The manifests layer does not hold `dk.yaml`. */
  DK_ARTIFACT_DK_YAML_MISSING: 'The manifests layer has no dk.yaml.',
  /** The manifests and content layers hold the same path with different bytes. */
  DK_ARTIFACT_FILE_CONFLICT: 'Both layers hold the same file with different contents.',
  /** A manifest, config or layer blob does not match its digest or declared size. */
  DK_ARTIFACT_BLOB_DIGEST_MISMATCH: 'An artifact blob does not match its descriptor.',

  /** The archive, its total inflated size, or one of its files is over the limit (zip bombs land here). */
  DK_ARCHIVE_TOO_LARGE: 'The archive exceeds a size limit.',
  /** The archive holds more entries than allowed. */
  DK_ARCHIVE_TOO_MANY_ENTRIES: 'The archive has too many entries.',
  /** An entry path is absolute, climbs out with `..`, or holds a backslash or NUL. */
  DK_ARCHIVE_UNSAFE_PATH: 'The archive has an unsafe path.',
  /** A symlink or hard link entry. */
  DK_ARCHIVE_LINK: 'The archive contains a link.',
  /** A device, FIFO or other entry that is neither a file nor a directory. */
  DK_ARCHIVE_UNSUPPORTED_ENTRY: 'The archive contains an unsupported entry type.',
  /** Two entries share a path once normalised. */
  DK_ARCHIVE_DUPLICATE_PATH: 'The archive contains the same path twice.',
  /** The bytes are not a valid gzip-compressed tar. */
  DK_ARCHIVE_CORRUPT: 'The archive is not a valid gzip-compressed tar.',

  /** Identity fields disagree: dk.yaml vs the annotations, the config blob or the tag (`path` names the field). */
  DK_IDENTITY_MISMATCH: 'The package identity is inconsistent.',
  /** The namespace is not DNS-safe (it appears in URLs and storage keys). */
  DK_NAMESPACE_INVALID: 'The package namespace is not a DNS-safe name.',
  /** dk.yaml is a Store: Stores are configured per Cell, never taken from an artifact. */
  DK_PACKAGE_KIND_UNSUPPORTED: 'This kind cannot be registered as a package.',
  /** The package is already registered with another kind. */
  DK_PACKAGE_KIND_CONFLICT: 'The package is registered with another kind.',
  /** A manifest under connector/, dataset/ or dataset-group/ is not of that folder's kind. */
  DK_MANIFEST_KIND_MISPLACED: 'A manifest is in the folder of another kind.',
  /** Two manifests of the package declare the same DataSet or Connector. */
  DK_MANIFEST_DUPLICATE: 'Two manifests declare the same thing.',
  /** The recorded version would exceed the storage item limit, or the manifests exceed the YAML read budget. */
  DK_PACKAGE_TOO_LARGE: 'The package manifests are too large to record.',
  /** More problems (or warnings) were found than are listed; the first ones are. */
  DK_PROBLEMS_TRUNCATED: 'More problems were found than are listed.',
} as const;

/** Any code of the registry capability. */
export type RegistryCode = keyof typeof registryCodes;

/** The archive-reader subset, reused verbatim as artifact problems. */
export type ArchiveCode = Extract<RegistryCode, `DK_ARCHIVE_${string}`>;
