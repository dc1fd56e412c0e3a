import type { Context } from 'aws-lambda';

/**
 * Time kept back from a function's remaining time when registry reads give up: enough to record a
 * rejection or nothing, and to write the 503 answer, before Lambda would kill the invocation.
 */
export const answerMarginMs = 1_500;

/**
 * The deadline of one invocation's registry reads: the function's remaining time (never more than its
 * configured timeout, which is all the embedded mode has) less {@link answerMarginMs}. A slow registry
 * then ends in a 503 problem+json with `Retry-After` instead of a Lambda timeout.
 */
export function registryDeadline(
  context: Pick<Context, 'getRemainingTimeInMillis'> | undefined,
  functionTimeoutMs: number,
): AbortSignal {
  const remaining = Math.min(context?.getRemainingTimeInMillis() ?? functionTimeoutMs, functionTimeoutMs);
  return AbortSignal.timeout(Math.max(0, remaining - answerMarginMs));
}
