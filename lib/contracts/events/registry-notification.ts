import * as z from 'zod';

/** Manifest media types whose pushes are worth registering (blob pushes carry other types). */
export const manifestMediaTypes: ReadonlySet<string> = new Set([
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
]);

/**
 * One event of a Docker-distribution notification envelope (distribution's `notifications.Event`):
 * only the fields registration reads are required; everything else passes.
 */
export const registryNotificationEventSchema = z.looseObject({
  action: z.string(),
  target: z.looseObject({
    mediaType: z.string().optional(),
    digest: z.string().optional(),
    repository: z.string().optional(),
    tag: z.string().optional(),
    url: z.string().optional(),
  }),
  request: z.looseObject({ host: z.string().optional() }).optional(),
});

export type RegistryNotificationEvent = z.infer<typeof registryNotificationEventSchema>;

/** `POST /local/registry-events`: what a registry with `notifications.endpoints` sends. */
export const registryNotificationEnvelopeSchema = z.object({
  events: z.array(z.unknown()).max(1000),
});
