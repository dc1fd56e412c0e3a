import type { CellRuntime } from '../../contracts/api/cells.js';
import { taskDefinitionFamilyPrefix } from '../../contracts/cell-resources.js';
import type { TransformManifest } from '../../contracts/manifests/transform.js';
import type { StoreRecord } from '../../ports/cell-store.js';
import type { SecretStore } from '../../ports/secret-store.js';
import { SecretMissingError } from '../../ports/secret-store.js';
import type {
  EnvironmentVariable,
  SecretVariable,
  TaskDefinitionSpec,
  TaskPackage,
} from '../../ports/task-control.js';
import type { BoundDataSet } from '../deployments/package-resolution.js';
import { UnprocessableError } from '../errors.js';
import { buildDsn, dsnVariable, storeVariableSuffix, typeVariable } from './store-connection.js';
import { fargateSizeOf, timeoutSecondsOf } from './task-sizing.js';

/** What places a Transform: its package, environment and cell. */
export interface TaskPlacement {
  readonly package: TaskPackage;
  readonly env: string;
  readonly cell: string;
  readonly runtime: CellRuntime;
}

/** Where the Transform reports its own lineage (this control plane's OpenLineage endpoint). */
export interface LineageEndpoint {
  readonly url: string;
}

/** The task-definition family of a package in a cell (ECS: letters, digits, `-`, `_`; at most 255). */
export function taskFamily(cell: string, namespace: string, name: string): string {
  return `${taskDefinitionFamilyPrefix(cell)}${namespace}-${name}`
    .replace(/[^A-Za-z0-9_-]/g, '_')
    .slice(0, 255);
}

/**
 * The task definition of a Transform version in a cell (ADR 0006, RUNTIME.md): `spec.env`, then for every
 * Store its DataSets use `DK_STORE_TYPE_<NAME>` and `DK_STORE_DSN_<NAME>` — a plain value when the DSN
 * holds no secret, else a secret reference — then the `DK_*` identity and the OpenLineage client settings.
 * A Store of another cell (an input with `cell:`) whose name the own cell also uses gets the suffix
 * `__<CELL>`. Per-run values come later as overrides (`runOverrides`).
 */
export async function buildTaskDefinition(input: {
  readonly placement: TaskPlacement;
  readonly transform: TransformManifest;
  readonly dataSets: readonly BoundDataSet[];
  /** Store records by cell, then by name: every Store `dataSets` names must be present. */
  readonly stores: ReadonlyMap<string, ReadonlyMap<string, StoreRecord>>;
  readonly secrets: SecretStore;
  readonly lineage: LineageEndpoint;
}): Promise<TaskDefinitionSpec> {
  const { placement, transform } = input;
  const { package: pkg } = placement;
  const environment: EnvironmentVariable[] = [];
  const secrets: SecretVariable[] = [];
  for (const variable of transform.spec.env ?? []) {
    if (variable.value !== undefined) environment.push({ name: variable.name, value: variable.value });
  }

  const used = new Map<string, { readonly cell: string; readonly store: StoreRecord }>();
  for (const dataSet of input.dataSets) {
    const store = input.stores.get(dataSet.cell)?.get(dataSet.contract.store);
    if (store === undefined) {
      throw new UnprocessableError(
        'DEPLOY_STORE_MISSING',
        `Cell ${dataSet.cell} has no store ${dataSet.contract.store} (DataSet ${dataSet.contract.name}).`,
      );
    }
    used.set(`${dataSet.cell}/${store.name}`, { cell: dataSet.cell, store });
  }
  const ownNames = new Set(
    [...used.values()].filter((entry) => entry.cell === placement.cell).map((entry) => entry.store.name),
  );
  const missing: string[] = [];
  for (const { cell, store } of [...used.values()].sort((a, b) => a.store.name.localeCompare(b.store.name))) {
    const suffix =
      cell !== placement.cell && ownNames.has(store.name) ? `__${storeVariableSuffix(cell)}` : '';
    const ref = { cell, store: store.name, secretArn: store.secretArn };
    let values: ReadonlyMap<string, string> = new Map();
    if (store.secretNames.length > 0) {
      try {
        values = await input.secrets.resolve(ref, store.secretNames);
      } catch (error) {
        if (!(error instanceof SecretMissingError)) throw error;
        missing.push(...error.names.map((name) => `${store.name}: ${name}`));
        continue;
      }
    }
    const dsn = buildDsn(store.manifest, values);
    environment.push({ name: `${typeVariable(store.name)}${suffix}`, value: dsn.connector });
    if (dsn.containsSecret) {
      secrets.push({
        name: `${dsnVariable(store.name)}${suffix}`,
        valueFrom: await input.secrets.putDerived(ref, 'DK_STORE_DSN', dsn.dsn),
      });
    } else {
      environment.push({ name: `${dsnVariable(store.name)}${suffix}`, value: dsn.dsn });
    }
  }
  if (missing.length > 0) {
    throw new UnprocessableError(
      'RUN_SECRET_MISSING',
      `Store secrets have no value: ${missing.join(', ')}. Set them where the cell keeps secrets (AWS: the store's secret in Secrets Manager; embedded mode: the control plane's environment).`,
    );
  }

  environment.push(
    { name: 'DK_PACKAGE', value: `${pkg.namespace}/${pkg.name}` },
    { name: 'DK_VERSION', value: pkg.version },
    { name: 'DK_ENV', value: placement.env },
    { name: 'DK_CELL', value: placement.cell },
    { name: 'OPENLINEAGE_URL', value: input.lineage.url },
    { name: 'OPENLINEAGE_NAMESPACE', value: pkg.namespace },
  );
  const size = fargateSizeOf(transform.spec.resources);
  return {
    family: taskFamily(placement.cell, pkg.namespace, pkg.name),
    cell: placement.cell,
    runtime: placement.runtime,
    package: pkg,
    image: transform.spec.image,
    command: transform.spec.command,
    environment,
    secrets,
    cpu: size.cpu,
    memory: size.memory,
    timeoutSeconds: timeoutSecondsOf(transform.spec.timeout),
    tags: {
      'datakit:package': `${pkg.namespace}/${pkg.name}`,
      'datakit:version': pkg.version,
      'datakit:cell': placement.cell,
      'datakit:env': placement.env,
    },
  };
}

/**
 * The per-run environment: the run id and the OpenLineage parent (the run itself), so the events a
 * Transform emits attach to its run as children — both the Airflow-style `OPENLINEAGE_PARENT_ID` and the
 * split variables newer clients read.
 */
export function runOverrides(run: {
  readonly runId: string;
  readonly namespace: string;
  readonly name: string;
}): EnvironmentVariable[] {
  return [
    { name: 'DK_RUN_ID', value: run.runId },
    { name: 'OPENLINEAGE_PARENT_ID', value: `${run.namespace}/${run.name}/${run.runId}` },
    { name: 'OPENLINEAGE_PARENT_RUN_ID', value: run.runId },
    { name: 'OPENLINEAGE_PARENT_JOB_NAMESPACE', value: run.namespace },
    { name: 'OPENLINEAGE_PARENT_JOB_NAME', value: run.name },
    { name: 'OPENLINEAGE_ROOT_PARENT_RUN_ID', value: run.runId },
    { name: 'OPENLINEAGE_ROOT_PARENT_JOB_NAMESPACE', value: run.namespace },
    { name: 'OPENLINEAGE_ROOT_PARENT_JOB_NAME', value: run.name },
  ];
}
