import { loadConfig } from './config.js';
import { createSharedDependencies, type SharedDependencies } from './wiring/shared.js';

/**
 * The dependencies of this Lambda process, from its environment, with X-Ray and CloudWatch metrics,
 * plus the capabilities the given wirings add in order (`lambdaDependencies(withEvents, withLineage)`).
 * A function imports only the wiring, adapters and AWS SDK clients it uses: the SDK is most of its
 * cold start, and the bundle of a function holds only what its handler imports.
 *
 * The Tracer and Metrics are imported here, on demand: the X-Ray SDK installs async hooks that tax
 * every promise, a price worth paying in Lambda but not in the embedded mode or the tests.
 */
export function lambdaDependencies(): Promise<SharedDependencies>;
export function lambdaDependencies<A>(wire: (deps: SharedDependencies) => A): Promise<A>;
export function lambdaDependencies<A, B>(
  first: (deps: SharedDependencies) => A,
  then: (deps: A) => B,
): Promise<B>;
export async function lambdaDependencies<A, B>(
  first?: (deps: SharedDependencies) => A,
  then?: (deps: A) => B,
): Promise<SharedDependencies | A | B> {
  const [{ Tracer }, { Metrics }] = await Promise.all([
    import('@aws-lambda-powertools/tracer'),
    import('@aws-lambda-powertools/metrics'),
  ]);
  const shared = createSharedDependencies(loadConfig(process.env), {
    tracer: new Tracer({ serviceName: 'datakit' }),
    metrics: new Metrics({ namespace: 'DataKit', serviceName: 'datakit' }),
  });
  if (first === undefined) return shared;
  const wired = first(shared);
  return then === undefined ? wired : then(wired);
}
