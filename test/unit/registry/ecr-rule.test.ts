import { describe, expect, it } from 'vitest';
import { matchesPattern } from '../../../lib/adapters/local/event-pattern.js';
import { ecrImageActionEventSchema, ecrPushPattern } from '../../../lib/contracts/events/ecr.js';

/** Event shapes as ECR sends them to the default bus (AWS docs, "Amazon ECR events and EventBridge"). */
const pushEvent = {
  version: '0',
  id: '13cde686-328b-6117-af20-0e5566167482',
  'detail-type': 'ECR Image Action',
  source: 'aws.ecr',
  account: '123456789012',
  time: '2024-05-01T10:00:00Z',
  region: 'eu-west-1',
  resources: [],
  detail: {
    result: 'SUCCESS',
    'repository-name': 'dk/sales/orders-daily',
    'image-digest': `sha256:${'7f'.repeat(32)}`,
    'action-type': 'PUSH',
    'image-tag': '1.2.0',
    'manifest-media-type': 'application/vnd.oci.image.manifest.v1+json',
    'artifact-media-type': 'application/vnd.infoblox.dk.config.v1+json',
  },
};

const withDetail = (detail: Record<string, unknown>) => ({
  ...pushEvent,
  detail: { ...pushEvent.detail, ...detail },
});

const pattern = ecrPushPattern(['dk/']);

describe('the ECR push rule pattern', () => {
  it('matches a successful push to a package repository', () => {
    expect(matchesPattern(pushEvent, pattern)).toBe(true);
  });

  it('matches whatever `resources` holds, since it never filters on them', () => {
    expect(
      matchesPattern(
        { ...pushEvent, resources: ['arn:aws:ecr:eu-west-1:123456789012:repository/x'] },
        pattern,
      ),
    ).toBe(true);
    expect(JSON.stringify(pattern)).not.toContain('resources');
  });

  it.each([
    ['a failed push', withDetail({ result: 'FAILURE' })],
    ['a deletion', withDetail({ 'action-type': 'DELETE' })],
    ['a push to another repository', withDetail({ 'repository-name': 'web/frontend' })],
    ['an image scan result', { ...pushEvent, 'detail-type': 'ECR Image Scan' }],
    ['a look-alike from another source', { ...pushEvent, source: 'custom.ecr' }],
  ])('does not match %s', (_what, event) => {
    expect(matchesPattern(event, pattern)).toBe(false);
  });

  it('parses a matched event into what the worker needs, tag included', () => {
    const parsed = ecrImageActionEventSchema.parse(pushEvent);

    expect(parsed.detail['repository-name']).toBe('dk/sales/orders-daily');
    expect(parsed.detail['image-tag']).toBe('1.2.0');
  });

  it('parses a push without a tag (a digest-only push)', () => {
    const { 'image-tag': _tag, ...detail } = pushEvent.detail;

    expect(ecrImageActionEventSchema.parse({ ...pushEvent, detail }).detail['image-tag']).toBeUndefined();
  });
});
