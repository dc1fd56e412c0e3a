import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ArtifactReference,
  formatReference,
  InvalidReferenceError,
  parseReference,
  referenceTarget,
} from '../../../lib/domain/registry/reference.js';

const digest = `sha256:${'ab'.repeat(32)}`;

const alnum = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'.split(''));
const word = fc.string({ unit: alnum, minLength: 1, maxLength: 8 });
const separator = fc.constantFrom('.', '_', '__', '-', '--');
const component = fc
  .tuple(word, fc.array(fc.tuple(separator, word), { maxLength: 2 }))
  .map(([head, tail]) => head + tail.map(([sep, part]) => sep + part).join(''));
const repository = fc.array(component, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/'));
const hostLabel = fc.string({ unit: alnum, minLength: 1, maxLength: 10 });
const registry = fc
  .tuple(
    fc.array(hostLabel, { minLength: 1, maxLength: 4 }),
    fc.option(fc.integer({ min: 1, max: 65_535 }), { nil: undefined }),
  )
  .map(([labels, port]) => labels.join('.') + (port === undefined ? '' : `:${port}`));
const tag = fc
  .tuple(
    fc.constantFrom(...'abcXYZ019_'.split('')),
    fc.string({ unit: fc.constantFrom(...'abcXYZ019_.-'.split('')), maxLength: 20 }),
  )
  .map(([first, rest]) => first + rest);
const hexDigest = fc
  .string({ unit: fc.constantFrom(...'0123456789abcdef'.split('')), minLength: 64, maxLength: 64 })
  .map((hex) => `sha256:${hex}`);
const reference: fc.Arbitrary<ArtifactReference> = fc.oneof(
  fc.record({ registry, repository, tag }),
  fc.record({ registry, repository, digest: hexDigest }),
);

describe('parseReference', () => {
  it('parses an ECR reference by tag', () => {
    expect(parseReference('123456789012.dkr.ecr.eu-west-1.amazonaws.com/sales/orders-daily:v1.2.0')).toEqual({
      registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
      repository: 'sales/orders-daily',
      tag: 'v1.2.0',
    });
  });

  it('parses a registry with a port and a digest reference', () => {
    expect(parseReference(`localhost:5000/a/b/c@${digest}`)).toEqual({
      registry: 'localhost:5000',
      repository: 'a/b/c',
      digest,
    });
  });

  it('parses a bracketed IPv6 registry', () => {
    expect(parseReference('[::1]:5000/team/pkg:1.0.0')).toMatchObject({
      registry: '[::1]:5000',
      tag: '1.0.0',
    });
  });

  it.each([
    ['no registry', 'orders:1.0.0'],
    ['no tag or digest', 'registry.example.com/sales/orders'],
    ['an empty tag', 'registry.example.com/sales/orders:'],
    ['uppercase repository', 'registry.example.com/Sales/orders:1'],
    ['a tag starting with a dot', 'registry.example.com/sales/orders:.1'],
    ['a tag longer than 128 characters', `registry.example.com/sales/orders:${'a'.repeat(129)}`],
    ['a short digest', 'registry.example.com/sales/orders@sha256:abc'],
    ['an uppercase digest', `registry.example.com/sales/orders@sha256:${'AB'.repeat(32)}`],
    ['a non-sha256 digest', `registry.example.com/sales/orders@md5:${'ab'.repeat(16)}`],
    ['port zero', 'registry.example.com:0/sales/orders:1'],
    ['port out of range', 'registry.example.com:70000/sales/orders:1'],
    ['an empty repository component', 'registry.example.com/sales//orders:1'],
    ['a scheme', 'https://registry.example.com/sales/orders:1'],
    ['a trailing separator in a component', 'registry.example.com/sales-/orders:1'],
    ['whitespace', 'registry.example.com/sales/orders :1'],
    ['a repository over 255 characters', `r.io/${'a'.repeat(256)}:1`],
  ])('rejects a reference with %s', (_, input) => {
    expect(() => parseReference(input)).toThrow(InvalidReferenceError);
  });

  it('carries the stable DK_REF_INVALID code', () => {
    expect(() => parseReference('nope')).toThrow(expect.objectContaining({ code: 'DK_REF_INVALID' }));
  });

  it('round-trips every well-formed reference through formatReference', () => {
    fc.assert(
      fc.property(reference, (ref) => {
        expect(parseReference(formatReference(ref))).toEqual(ref);
      }),
    );
  });

  it('addresses the manifest by digest when there is one, else by tag', () => {
    fc.assert(
      fc.property(reference, (ref) => {
        expect(referenceTarget(ref)).toBe(ref.digest ?? ref.tag);
      }),
    );
  });

  it('either parses garbage into a reference that formats back to the input, or throws InvalidReferenceError', () => {
    const garbage = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.string({ unit: fc.constantFrom(...'aZ0:/@.-_[]sha256'.split('')), maxLength: 60 }),
      reference.map(formatReference).chain((valid) =>
        fc.tuple(fc.nat(valid.length), fc.string({ maxLength: 3 })).map(([at, noise]) => {
          return valid.slice(0, at) + noise + valid.slice(at);
        }),
      ),
    );
    fc.assert(
      fc.property(garbage, (input) => {
        let parsed: ArtifactReference;
        try {
          parsed = parseReference(input);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidReferenceError);
          return;
        }
        expect(formatReference(parsed)).toBe(input);
      }),
      { numRuns: 2000 },
    );
  });
});
