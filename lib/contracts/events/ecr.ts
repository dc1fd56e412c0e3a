import * as z from 'zod';

/**
 * The EventBridge pattern of the registration rule, defined once: the stack deploys it on the default
 * bus and the tests match it against ECR's real event shapes. It filters on detail-type and the
 * repository-name prefix, never on `resources` (ECR sends `resources: []` for image actions).
 */
export function ecrPushPattern(repositoryPrefixes: readonly string[]) {
  return {
    source: ['aws.ecr'],
    'detail-type': ['ECR Image Action'],
    detail: {
      'action-type': ['PUSH'],
      result: ['SUCCESS'],
      'repository-name': repositoryPrefixes.map((prefix) => ({ prefix })),
    },
  };
}

/** An `ECR Image Action` event as EventBridge delivers it to the registration worker. */
export const ecrImageActionEventSchema = z.object({
  'detail-type': z.literal('ECR Image Action'),
  source: z.literal('aws.ecr'),
  account: z.string().regex(/^\d{12}$/),
  region: z.string().min(1),
  time: z.string(),
  detail: z.looseObject({
    'action-type': z.string(),
    result: z.string(),
    'repository-name': z.string().min(1),
    'image-digest': z.string().regex(/^sha256:[a-f0-9]{64}$/),
    'image-tag': z.string().optional(),
  }),
});

export type EcrImageActionEvent = z.infer<typeof ecrImageActionEventSchema>;

/** The registry host of an account's private ECR registry in a region. */
export function ecrRegistryHost(account: string, region: string): string {
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `${account}.dkr.ecr.${region}.${suffix}`;
}
