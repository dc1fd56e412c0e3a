import type { RegistrationRecord } from '../contracts/api/registrations.js';
import type { PackageHead, StagedVersion } from '../domain/registry/model.js';

/** The outcome of staging a version: claimed by this digest, or already claimed by another one. */
export type StageResult = { readonly claimed: true } | { readonly claimed: false; readonly digest: string };

/**
 * What registration writes, in the order it writes it: stage (idempotent, invisible), then commit the
 * head (the one conditional write that makes the version visible). Every method throws on storage
 * failures; callers retry the whole registration.
 */
export interface RegistryStore {
  /** The package head, strongly consistent; undefined before the first version is committed. */
  getHead(namespace: string, name: string): Promise<PackageHead | undefined>;
  /**
   * Writes the version detail unless another digest already claimed the version (the first digest to
   * stage a version owns it, committed or not).
   */
  stageVersion(staged: StagedVersion): Promise<StageResult>;
  /** Writes the DataSet declarations and pipeline edges of a claimed version (idempotent puts). */
  stageGraph(staged: StagedVersion): Promise<void>;
  /**
   * The commit: writes the head if its stored revision is still `head.revision` (0: must not exist).
   * Throws ConcurrentModificationError when someone else committed first.
   */
  commitHead(head: PackageHead): Promise<void>;
  /** Writes a record unless one with its id exists; false when it does (the claim was taken). */
  claimRegistration(record: RegistrationRecord): Promise<boolean>;
  /** Removes a claimed record whose follow-up failed, so a retry can claim it again. */
  releaseRegistration(id: string): Promise<void>;
}
