import type { EnvironmentVariable, TaskDefinitionSpec } from '../../ports/task-control.js';

/** Turns a task definition's `secrets[].valueFrom` into the value (the secret store's `putDerived` handle). */
export type SecretResolver = (valueFrom: string) => Promise<string>;

/**
 * What a Transform sees of the control plane's own environment: enough for a process to run (find its
 * interpreter, a home, a locale, a temp dir), nothing that grants anything. The control plane's AWS
 * credentials, `${VAR}` Store secrets and every other variable stay out, as they would in a container.
 */
export const defaultInheritedVariables: readonly string[] = [
  'PATH',
  'HOME',
  'LANG',
  'LC_ALL',
  'TZ',
  'TMPDIR',
];

/**
 * The Transform's environment as ECS composes a container's: the task definition's variables, then its
 * secrets resolved, then the run's overrides (later wins, as a container override wins in ECS).
 */
export async function composeTaskEnvironment(
  spec: TaskDefinitionSpec,
  overrides: readonly EnvironmentVariable[],
  resolveSecret: SecretResolver,
): Promise<Map<string, string>> {
  const environment = new Map<string, string>();
  for (const { name, value } of spec.environment) environment.set(name, value);
  const secrets = await Promise.all(
    spec.secrets.map(async ({ name, valueFrom }) => ({ name, value: await resolveSecret(valueFrom) })),
  );
  for (const { name, value } of secrets) environment.set(name, value);
  for (const { name, value } of overrides) environment.set(name, value);
  return environment;
}

/** The environment of the child process: the inherited names that are set, then the Transform's own. */
export function processEnvironment(
  transform: ReadonlyMap<string, string>,
  inherited: readonly string[],
  source: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const name of inherited) {
    const value = source[name];
    if (value !== undefined) environment[name] = value;
  }
  for (const [name, value] of transform) environment[name] = value;
  return environment;
}
