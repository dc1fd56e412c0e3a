import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sortableVersion } from '../../../lib/domain/registry/version-order.js';

/** Semantic Versioning 2.0 precedence, written independently of the encoding under test. */
function comparePrecedence(a: string, b: string): number {
  const parse = (v: string) => {
    const [core = '', pre] = v.split('+')[0]?.split(/-(.*)/s) ?? [];
    return { nums: core.split('.').map(Number), pre: pre === undefined ? [] : pre.split('.') };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) {
    const d = (x.nums[i] ?? 0) - (y.nums[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (x.pre.length === 0 && y.pre.length === 0) return 0;
  if (x.pre.length === 0) return 1;
  if (y.pre.length === 0) return -1;
  for (let i = 0; i < Math.max(x.pre.length, y.pre.length); i++) {
    const p = x.pre[i];
    const q = y.pre[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    const pn = /^\d+$/.test(p);
    const qn = /^\d+$/.test(q);
    if (pn && qn && Number(p) !== Number(q)) return Math.sign(Number(p) - Number(q));
    if (pn !== qn) return pn ? -1 : 1;
    if (!pn && p !== q) return p < q ? -1 : 1;
  }
  return 0;
}

const identifier = fc.oneof(fc.nat({ max: 999 }).map(String), fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/));
const semver = fc
  .tuple(
    fc.nat({ max: 99_999 }),
    fc.nat({ max: 999 }),
    fc.nat({ max: 999 }),
    fc.option(fc.array(identifier, { minLength: 1, maxLength: 3 })),
  )
  .map(
    ([major, minor, patch, pre]) => `${major}.${minor}.${patch}${pre === null ? '' : `-${pre.join('.')}`}`,
  );

describe('sortableVersion', () => {
  it('sorts lexically in semantic-version precedence order', () => {
    fc.assert(
      fc.property(semver, semver, (a, b) => {
        const byOrdinal =
          sortableVersion(a) < sortableVersion(b) ? -1 : sortableVersion(a) > sortableVersion(b) ? 1 : 0;
        expect(byOrdinal).toBe(comparePrecedence(a, b));
      }),
      { numRuns: 2000 },
    );
  });

  it('orders a release after its pre-releases and ignores build metadata', () => {
    expect(sortableVersion('1.0.0-rc.1') < sortableVersion('1.0.0')).toBe(true);
    expect(sortableVersion('1.0.0+build.5')).toBe(sortableVersion('1.0.0'));
    expect(sortableVersion('2.0.0') > sortableVersion('10.0.0')).toBe(false);
  });
});
