import { describe, expect, it } from 'vitest';
import { AccessControl } from '../../../lib/api/access-control.js';
import { GroupDirectory } from '../../../lib/domain/identity/groups.js';
import type { BindingsStore, StoredBindings } from '../../../lib/ports/bindings-store.js';

/** Bindings that count their reads: the cache is what is under test, not the table. */
function countingBindings() {
  const reads = new Map<string, number>();
  const store: BindingsStore = {
    get: async (namespace): Promise<StoredBindings> => {
      reads.set(namespace, (reads.get(namespace) ?? 0) + 1);
      return { namespace, bindings: [], revision: 0 };
    },
    put: async () => {
      throw new Error('not used');
    },
    anyBindings: async () => true,
  };
  return { store, reads };
}

function accessControl(store: BindingsStore) {
  return new AccessControl({
    mode: 'enforced',
    readAccess: 'open',
    platformAdminGroup: 'platform-admins',
    groups: new GroupDirectory({}),
    bindings: store,
    lookup: { ofRun: async () => undefined, ofPromotion: async () => undefined },
    clock: () => new Date('2026-11-27T12:00:00Z'),
    cacheSeconds: 10,
  });
}

describe('the bindings cache', () => {
  it('reads a namespace once while its bindings are trusted', async () => {
    const { store, reads } = countingBindings();
    const access = accessControl(store);
    await access.bindingsOf('sales');
    await access.bindingsOf('sales');
    expect(reads.get('sales')).toBe(1);
  });

  it('stays bounded when callers name namespace after namespace', async () => {
    const { store, reads } = countingBindings();
    const access = accessControl(store);
    await access.bindingsOf('sales');
    for (let index = 0; index < 5000; index++) await access.bindingsOf(`ns-${index}`);
    // Still within its 10 s, but pushed out by the others: read again rather than kept forever.
    await access.bindingsOf('sales');
    expect(reads.get('sales')).toBe(2);
  });
});
