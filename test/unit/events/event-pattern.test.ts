import { describe, expect, it } from 'vitest';
import { matchesPattern } from '../../../lib/adapters/local/event-pattern.js';

const event = {
  source: 'datakit.control-plane',
  'detail-type': 'DataSet Updated',
  detail: { namespace: 'analytics', name: 'raw-events', rows: 120, tags: ['pii', 'daily'] },
};

describe('matchesPattern (EventBridge semantics)', () => {
  it('matches exact values, any of a list', () => {
    expect(matchesPattern(event, { 'detail-type': ['Run Failed', 'DataSet Updated'] })).toBe(true);
    expect(matchesPattern(event, { 'detail-type': ['Run Failed'] })).toBe(false);
  });

  it('matches nested fields and requires every field', () => {
    expect(
      matchesPattern(event, { source: ['datakit.control-plane'], detail: { namespace: ['analytics'] } }),
    ).toBe(true);
    expect(
      matchesPattern(event, { source: ['datakit.control-plane'], detail: { namespace: ['billing'] } }),
    ).toBe(false);
  });

  it('matches prefixes, anything-but and numeric ranges', () => {
    expect(matchesPattern(event, { detail: { name: [{ prefix: 'raw-' }] } })).toBe(true);
    expect(matchesPattern(event, { detail: { name: [{ prefix: 'curated-' }] } })).toBe(false);
    expect(matchesPattern(event, { detail: { namespace: [{ 'anything-but': ['billing'] }] } })).toBe(true);
    expect(matchesPattern(event, { detail: { namespace: [{ 'anything-but': 'analytics' }] } })).toBe(false);
    expect(matchesPattern(event, { detail: { rows: [{ numeric: ['>', 100, '<=', 120] }] } })).toBe(true);
    expect(matchesPattern(event, { detail: { rows: [{ numeric: ['>', 120] }] } })).toBe(false);
  });

  it('treats an array field as matching when any element matches', () => {
    expect(matchesPattern(event, { detail: { tags: ['pii'] } })).toBe(true);
    expect(matchesPattern(event, { detail: { tags: ['weekly'] } })).toBe(false);
  });

  it('checks presence with exists', () => {
    expect(matchesPattern(event, { detail: { rows: [{ exists: true }] } })).toBe(true);
    expect(matchesPattern(event, { detail: { owner: [{ exists: false }] } })).toBe(true);
    expect(matchesPattern(event, { detail: { owner: [{ exists: true }] } })).toBe(false);
  });

  it('never matches a missing nested object', () => {
    expect(matchesPattern({ source: 'x' }, { detail: { namespace: ['analytics'] } })).toBe(false);
  });
});
