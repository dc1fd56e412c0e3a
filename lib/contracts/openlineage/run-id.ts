import { createHash } from 'node:crypto';

// Marquez keys runs by UUID but accepts any run id: one that is not a UUID becomes
// `UUID.nameUUIDFromBytes(runId.getBytes())` (OpenLineageDao.runToUuid), an MD5 name-based (version 3)
// UUID of its UTF-8 bytes. We do the same, so a producer sending `manual__2024-05-01` gets the run id
// Marquez would give it, and every event (and every read) naming that id reaches the same run.

const canonicalUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Java's `UUID.nameUUIDFromBytes`: MD5 of the bytes, version 3, IETF variant. */
export function nameUuidFromBytes(bytes: Uint8Array): string {
  const md5 = createHash('md5').update(bytes).digest();
  md5[6] = ((md5[6] ?? 0) & 0x0f) | 0x30;
  md5[8] = ((md5[8] ?? 0) & 0x3f) | 0x80;
  const hex = md5.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** `nameUuidFromBytes` of a text's UTF-8 bytes. */
export function nameUuidFromText(text: string): string {
  return nameUuidFromBytes(Buffer.from(text, 'utf8'));
}

/**
 * The run id as stored: a UUID lower-cased (one run whatever the producer's casing), anything else mapped
 * to its name-based UUID as Marquez maps it. Stable: the same id always gives the same run.
 */
export function runIdToUuid(runId: string): string {
  return canonicalUuid.test(runId) ? runId.toLowerCase() : nameUuidFromText(runId);
}
