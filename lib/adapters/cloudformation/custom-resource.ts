import * as z from 'zod';

/**
 * The CloudFormation custom-resource protocol for a Lambda that CloudFormation invokes directly (no
 * provider framework): the request event and the response the function PUTs to the request's pre-signed
 * `ResponseURL`. Until that response arrives the stack waits, so every request must be answered, a
 * failure included.
 */

const requestBase = z.object({
  ResponseURL: z.url(),
  StackId: z.string().min(1),
  RequestId: z.string().min(1),
  LogicalResourceId: z.string().min(1),
  ResourceType: z.string().min(1),
  ResourceProperties: z.record(z.string(), z.unknown()),
});

export const customResourceRequestSchema = z.discriminatedUnion('RequestType', [
  requestBase.extend({ RequestType: z.literal('Create') }),
  requestBase.extend({
    RequestType: z.literal('Update'),
    PhysicalResourceId: z.string().min(1),
    OldResourceProperties: z.record(z.string(), z.unknown()),
  }),
  requestBase.extend({ RequestType: z.literal('Delete'), PhysicalResourceId: z.string().min(1) }),
]);

export type CustomResourceRequest = z.infer<typeof customResourceRequestSchema>;

/** What a request did: the resource's physical id and, when it failed, why. */
export type CustomResourceOutcome =
  | { readonly status: 'SUCCESS'; readonly physicalResourceId: string }
  | { readonly status: 'FAILED'; readonly physicalResourceId: string; readonly reason: string };

/** The response body CloudFormation expects. */
export interface CustomResourceResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
}

/** CloudFormation rejects response bodies over 4 KB; the reason is the only part of unbounded length. */
const maxReasonLength = 2048;

/** The response to `request` for `outcome`. */
export function customResourceResponse(
  request: CustomResourceRequest,
  outcome: CustomResourceOutcome,
): CustomResourceResponse {
  return {
    Status: outcome.status,
    ...(outcome.status === 'FAILED' ? { Reason: outcome.reason.slice(0, maxReasonLength) } : {}),
    PhysicalResourceId: outcome.physicalResourceId,
    StackId: request.StackId,
    RequestId: request.RequestId,
    LogicalResourceId: request.LogicalResourceId,
  };
}

/** CloudFormation (S3 behind the pre-signed URL) did not take the response. */
export class CustomResourceResponseError extends Error {
  constructor(readonly status: number) {
    super(`CloudFormation did not accept the custom resource response (HTTP ${status})`);
    this.name = 'CustomResourceResponseError';
  }
}

/**
 * PUTs the response to the pre-signed URL. The URL signs no content type, and S3 would store the one
 * `fetch` adds, so it is sent empty as CloudFormation's own examples do. Throws when it is not taken, so
 * Lambda's retries of the (idempotent) request try again.
 */
export async function sendCustomResourceResponse(
  responseUrl: string,
  response: CustomResourceResponse,
): Promise<void> {
  const answer = await fetch(responseUrl, {
    method: 'PUT',
    headers: { 'content-type': '' },
    body: JSON.stringify(response),
  });
  await answer.body?.cancel();
  if (!answer.ok) throw new CustomResourceResponseError(answer.status);
}
