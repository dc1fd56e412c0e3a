import type { PackageVersionRef } from '../../contracts/api/datasets.js';
import type {
  AffectedConsumer,
  DeprecationBody,
  DeprecationImpact,
  DeprecationResult,
} from '../../contracts/api/deprecations.js';
import type { PackageVersion } from '../../contracts/api/packages.js';
import { dataSetDeprecatedSchema, packageDeprecatedSchema } from '../../contracts/events/governance.js';
import { dataSetManifestSchema } from '../../contracts/manifests/dataset.js';
import type { DeploymentRepository } from '../../ports/deployment-store.js';
import type {
  DeprecationStore,
  DeprecationSubject,
  StoredDeprecation,
} from '../../ports/deprecation-store.js';
import type { EventPublisher } from '../../ports/event-publisher.js';
import type { PackageReader } from '../../ports/package-repository.js';
import { ConcurrentModificationError, found } from '../errors.js';

/** Labels that say who owns a package: a deprecation's consumers are told through them. */
export const ownerLabelKeys = ['owner', 'team'] as const;

/** Consumers listed in an event or answer; the count says how many there are in all. */
const maxListedConsumers = 100;

export interface DeprecationDependencies {
  readonly packages: Pick<PackageReader, 'get' | 'getVersion' | 'getDataSet'>;
  readonly deprecations: DeprecationStore;
  readonly deployments: Pick<DeploymentRepository, 'listDeploymentsOfPackage'>;
  readonly events: EventPublisher;
  readonly clock: () => Date;
}

/** A deprecation request: the subject, the body, and who asks. */
export interface DeprecationRequest extends DeprecationBody {
  readonly namespace: string;
  readonly name: string;
  readonly by: string;
}

/** The outcome: `created` when the subject was not deprecated before (201), else 200. */
export interface DeprecationOutcome {
  readonly created: boolean;
  readonly result: DeprecationResult;
  /** The deprecation it replaced, if any (the audit trail's before). */
  readonly previous?: { readonly reason: string; readonly sunset: string };
}

type DataSetRef = { readonly namespace: string; readonly name: string };

/**
 * `POST /v1/datasets/{ns}/{name}/deprecation` and `POST /v1/packages/{ns}/{name}/deprecation`: records the
 * deprecation, then announces it with everyone it affects. The same reason and sunset again change
 * nothing and announce nothing (once announced); another reason or sunset replaces it and announces
 * again. The event goes out after the write and the write is marked announced after the event, so a
 * failure in between is completed by repeating the request (at least once).
 */
export function makeDeprecations(deps: DeprecationDependencies) {
  /** Records (or finds) the deprecation; `publish` announces it when it is not announced yet. */
  async function record(
    subject: DeprecationSubject,
    request: DeprecationRequest,
    publish: (deprecation: StoredDeprecation) => Promise<void>,
  ): Promise<{ created: boolean; stored: StoredDeprecation; previous?: StoredDeprecation }> {
    const current = await deps.deprecations.get(subject);
    const same =
      current !== undefined && current.reason === request.reason && current.sunset === request.sunset;
    if (same && current.announced) return { created: false, stored: current, previous: current };
    const stored = same
      ? current
      : await deps.deprecations.put(
          subject,
          {
            reason: request.reason,
            sunset: request.sunset,
            deprecatedAt: deps.clock().toISOString(),
            deprecatedBy: request.by,
            announced: false,
          },
          current?.revision ?? 0,
        );
    await publish(stored);
    try {
      const { revision: _revision, ...unannounced } = stored;
      await deps.deprecations.put(subject, { ...unannounced, announced: true }, stored.revision);
    } catch (error) {
      // Someone replaced it since: their request announces their version.
      if (!(error instanceof ConcurrentModificationError)) throw error;
    }
    return {
      created: current === undefined,
      stored,
      ...(current === undefined ? {} : { previous: current }),
    };
  }

  /** Who reads `dataSets`: each consumer's owners and the deployments of it that read one of them. */
  async function impactOf(
    consumers: readonly PackageVersionRef[],
    dataSets: readonly DataSetRef[],
  ): Promise<DeprecationImpact> {
    const unique = [...new Map(consumers.map((ref) => [`${ref.namespace}/${ref.name}`, ref])).values()].sort(
      (a, b) => compare(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`),
    );
    const reads = new Set(dataSets.map((dataSet) => `${dataSet.namespace}/${dataSet.name}`));
    const affected = await Promise.all(
      unique.map(async (ref): Promise<AffectedConsumer> => {
        const [detail, deployments] = await Promise.all([
          deps.packages.get(ref.namespace, ref.name),
          deps.deployments.listDeploymentsOfPackage(ref.namespace, ref.name),
        ]);
        const labels = detail?.labels ?? {};
        return {
          namespace: ref.namespace,
          name: ref.name,
          version: ref.version,
          owners: Object.fromEntries(
            ownerLabelKeys.flatMap((label) =>
              Object.hasOwn(labels, label) ? [[label, labels[label] ?? '']] : [],
            ),
          ),
          deployments: deployments
            // A deployment that does not list its inputs (recorded before they were) may read it.
            .filter(
              (deployment) =>
                deployment.inputs === undefined ||
                deployment.inputs.some((input) => reads.has(`${input.namespace}/${input.name}`)),
            )
            .map((deployment) => ({
              env: deployment.env,
              cell: deployment.cell,
              version: deployment.version,
            }))
            .sort((a, b) => compare(`${a.env}/${a.cell}`, `${b.env}/${b.cell}`)),
        };
      }),
    );
    return {
      consumers: affected.slice(0, maxListedConsumers),
      consumerCount: affected.length,
      cells: [...new Set(affected.flatMap((c) => c.deployments.map((d) => d.cell)))].sort(compare),
      owners: [
        ...new Set(affected.flatMap((c) => Object.entries(c.owners).map(([k, v]) => `${k}=${v}`))),
      ].sort(compare),
    };
  }

  return {
    async deprecateDataSet(request: DeprecationRequest): Promise<DeprecationOutcome> {
      const dataSet = found(
        await deps.packages.getDataSet(request.namespace, request.name),
        'DATASET_NOT_FOUND',
        `No DataSet ${request.namespace}/${request.name} is registered.`,
      );
      const subject: DeprecationSubject = {
        kind: 'dataset',
        namespace: dataSet.namespace,
        name: dataSet.name,
      };
      let impact: DeprecationImpact | undefined;
      const impactNow = async () => {
        impact ??= await impactOf(dataSet.consumers, [dataSet]);
        return impact;
      };
      const { created, stored, previous } = await record(subject, request, async (deprecation) => {
        const detail = dataSetDeprecatedSchema.parse({
          namespace: dataSet.namespace,
          name: dataSet.name,
          ...announced(deprecation),
          ...(await impactNow()),
        });
        await deps.events.publish([
          {
            detailType: 'DataSet Deprecated',
            detail,
            resources: [`dataset:${dataSet.namespace}/${dataSet.name}`],
          },
        ]);
      });
      return {
        created,
        result: result(subject, stored, await impactNow()),
        ...previousOf(previous),
      };
    },

    async deprecatePackage(request: DeprecationRequest): Promise<DeprecationOutcome> {
      const pkg = found(
        await deps.packages.get(request.namespace, request.name),
        'PACKAGE_NOT_FOUND',
        `No package ${request.namespace}/${request.name} is registered.`,
      );
      const version = await deps.packages.getVersion(pkg.namespace, pkg.name, pkg.latestVersion);
      const dataSets = version === undefined ? [] : dataSetsOf(version);
      const subject: DeprecationSubject = { kind: 'package', namespace: pkg.namespace, name: pkg.name };
      let impact:
        | { impact: DeprecationImpact; deployments: { env: string; cell: string; version: string }[] }
        | undefined;
      const impactNow = async () => {
        if (impact !== undefined) return impact;
        const details = await Promise.all(
          dataSets.map((ref) => deps.packages.getDataSet(ref.namespace, ref.name)),
        );
        const consumers = details
          .flatMap((detail) => detail?.consumers ?? [])
          .filter((consumer) => consumer.namespace !== pkg.namespace || consumer.name !== pkg.name);
        const [computed, own] = await Promise.all([
          impactOf(consumers, dataSets),
          deps.deployments.listDeploymentsOfPackage(pkg.namespace, pkg.name),
        ]);
        impact = {
          impact: computed,
          deployments: own
            .map((deployment) => ({
              env: deployment.env,
              cell: deployment.cell,
              version: deployment.version,
            }))
            .sort((a, b) => compare(`${a.env}/${a.cell}`, `${b.env}/${b.cell}`)),
        };
        return impact;
      };
      const { created, stored, previous } = await record(subject, request, async (deprecation) => {
        const { impact: affected, deployments } = await impactNow();
        const detail = packageDeprecatedSchema.parse({
          namespace: pkg.namespace,
          name: pkg.name,
          kind: pkg.kind,
          ...announced(deprecation),
          dataSets,
          deployments,
          ...affected,
        });
        await deps.events.publish([
          { detailType: 'Package Deprecated', detail, resources: [`package:${pkg.namespace}/${pkg.name}`] },
        ]);
      });
      return {
        created,
        result: result(subject, stored, (await impactNow()).impact),
        ...previousOf(previous),
      };
    },
  };
}

export type Deprecations = ReturnType<typeof makeDeprecations>;

function announced(deprecation: StoredDeprecation) {
  return {
    reason: deprecation.reason,
    sunset: deprecation.sunset,
    deprecatedAt: deprecation.deprecatedAt,
    deprecatedBy: deprecation.deprecatedBy,
  };
}

function result(
  subject: DeprecationSubject,
  deprecation: StoredDeprecation,
  impact: DeprecationImpact,
): DeprecationResult {
  return {
    subject: subject.kind,
    namespace: subject.namespace,
    name: subject.name,
    deprecation: announced(deprecation),
    impact,
  };
}

/** The DataSets a package version declares or writes: what its deprecation takes away. */
export function dataSetsOf(version: PackageVersion): DataSetRef[] {
  const refs = new Map<string, DataSetRef>();
  const add = (ref: DataSetRef) =>
    refs.set(`${ref.namespace}/${ref.name}`, { namespace: ref.namespace, name: ref.name });
  for (const manifest of version.kind === 'DataSet'
    ? [...version.datasets, version.manifest]
    : version.datasets) {
    const parsed = dataSetManifestSchema.safeParse(manifest);
    if (parsed.success)
      add({
        namespace: parsed.data.metadata.namespace ?? version.namespace,
        name: parsed.data.metadata.name,
      });
  }
  for (const output of version.outputs) add(output);
  return [...refs.values()].sort((a, b) => compare(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The `previous` of an outcome: the reason and sunset it replaced. */
function previousOf(previous: StoredDeprecation | undefined): Pick<DeprecationOutcome, 'previous'> {
  return previous === undefined ? {} : { previous: { reason: previous.reason, sunset: previous.sunset } };
}
