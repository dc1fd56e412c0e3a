/**
 * The TTL attribute (`expiresAt`, epoch seconds) of an item kept `days` after the ISO instant `from`;
 * undefined when `days` is 0 (kept forever). DynamoDB deletes expired items within days; reads filter them
 * at once (SingleTable), so an expired item is gone for every reader from its expiry on.
 */
export function expiresAfter(from: string, days: number): number | undefined {
  if (days <= 0) return undefined;
  const at = Date.parse(from);
  if (Number.isNaN(at)) return undefined;
  return Math.floor(at / 1000) + days * 24 * 3600;
}
