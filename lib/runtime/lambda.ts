import { loadConfig } from './config.js';
import { createSharedDependencies, type SharedDependencies } from './wiring/shared.js';

/**
 * The dependencies of this Lambda process, from its environment, with X-Ray and CloudWatch metrics,
 * and the capabilities `wire` adds (`withPackages`, `withLineage`, ...): a function imports only the
 * wiring, adapters and AWS SDK clients it uses, which is most of its cold start.
 *
 * The Tracer and Metrics are imported here, on demand: the X-Ray SDK installs async hooks that tax
 * every promise, a price worth paying in Lambda but not in the embedded mode or the tests.
 */
export function lambdaDependencies(): Promise<SharedDependencies>;
export function lambdaDependencies<D>(wire: (shared: SharedDependencies) => D): Promise<D>;
export async function lambdaDependencies<D>(
  wire?: (shared: SharedDependencies) => D,
): Promise<D | SharedDependencies> {
  const [{ Tracer }, { Metrics }] = await Promise.all([
    import('@aws-lambda-powertools/tracer'),
    import('@aws-lambda-powertools/metrics'),
  ]);
  const shared = createSharedDependencies(loadConfig(process.env), {
    tracer: new Tracer({ serviceName: 'datakit' }),
    metrics: new Metrics({ namespace: 'DataKit', serviceName: 'datakit' }),
  });
  return wire === undefined ? shared : wire(shared);
}
