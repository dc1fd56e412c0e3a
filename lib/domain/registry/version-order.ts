/**
 * Encodes a semantic version so that lexical order is precedence order: numeric parts are zero-padded,
 * and a release sorts after its pre-releases (`~` sorts after every pre-release character). Storage
 * keys use it so versions sort by precedence; anything that is not semver sorts after every release.
 */
export function sortableVersion(version: string): string {
  const match = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(version);
  if (match === null) return `~${version}`;
  const [, major = '0', minor = '0', patch = '0', pre] = match;
  const pad = (n: string) => n.padStart(10, '0');
  const preKey =
    pre === undefined
      ? '~'
      : `-${pre
          .split('.')
          .map((part) => (/^\d+$/.test(part) ? pad(part) : part))
          .join('.')}`;
  return `${pad(major)}.${pad(minor)}.${pad(patch)}${preKey}`;
}

/** Negative, zero or positive as `a` precedes, equals or follows `b` in semantic-version precedence. */
export function compareVersions(a: string, b: string): number {
  const x = sortableVersion(a);
  const y = sortableVersion(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
