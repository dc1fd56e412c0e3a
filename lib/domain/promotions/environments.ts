import * as z from 'zod';
import { groupNameSchema } from '../../contracts/identity.js';

/** An environment and what a promotion into it needs (`datakit:environments`, `DATAKIT_ENVIRONMENTS`). */
export const environmentSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,15}$/, 'an environment name'),
  /** Groups that must each approve, by distinct people who did not request it. */
  approvals: z
    .array(groupNameSchema)
    .max(5)
    .default([])
    .refine((groups) => new Set(groups).size === groups.length, 'a group is listed twice'),
  /** Governed environments refuse PII flowing into under-classified DataSets. */
  governed: z.boolean().default(false),
});

export type Environment = z.infer<typeof environmentSchema>;

export const environmentsSchema = z
  .array(environmentSchema)
  .min(1)
  .refine(
    (list) => new Set(list.map((env) => env.name)).size === list.length,
    'environment names must be unique',
  );

/** dev (no approval) → int (owners) → prod (owners and security, governed): the seed's flow. */
export const defaultEnvironments: readonly Environment[] = [
  { name: 'dev', approvals: [], governed: false },
  { name: 'int', approvals: ['owners'], governed: false },
  { name: 'prod', approvals: ['owners', 'security'], governed: true },
];

/**
 * The group whose approval a governance override needs (issue 11: "an override needs a reason and the
 * `security` group's approval"): the same group name in every environment.
 */
export const governanceApprovalGroup = 'security';

/**
 * The approval actions of an environment's pipeline: one per group it requires, and in a governed
 * environment one for `security` too — which only promotions with a governance override wait for (the
 * others have it handed over as not required).
 */
export function pipelineApprovalGroups(env: Environment): string[] {
  return env.governed && !env.approvals.includes(governanceApprovalGroup)
    ? [...env.approvals, governanceApprovalGroup]
    : [...env.approvals];
}

/** The environments in promotion order, with lookups. */
export class Environments {
  constructor(readonly list: readonly Environment[] = defaultEnvironments) {}

  get(name: string): Environment | undefined {
    return this.list.find((env) => env.name === name);
  }

  /** The environment a version must be deployed in before this one (undefined for the first). */
  previous(name: string): Environment | undefined {
    const index = this.list.findIndex((env) => env.name === name);
    return index > 0 ? this.list[index - 1] : undefined;
  }

  names(): string[] {
    return this.list.map((env) => env.name);
  }

  /**
   * The environments whose promotions may wait for approvals (each has a pipeline in AWS): those with
   * approvals, and governed ones (a governance override waits for `security`).
   */
  withPipelines(): Environment[] {
    return this.list.filter((env) => pipelineApprovalGroups(env).length > 0);
  }

  /** Every group some environment may need an approval of. */
  approverGroups(): string[] {
    return [...new Set(this.list.flatMap(pipelineApprovalGroups))].sort();
  }
}

/** The environments from `ENVIRONMENTS` (JSON), or the default dev → int → prod. */
export function environmentsOf(json: string | undefined): Environments {
  if (json === undefined) return new Environments();
  return new Environments(environmentsSchema.parse(JSON.parse(json)));
}
