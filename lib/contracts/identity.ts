import * as z from 'zod';

/**
 * A group name (`owners`, `security`): lower-case, digits and `-`, so it can name a CodePipeline approval
 * action (`Approve-<group>`) and a CLI flag value without quoting.
 */
export const groupNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,30}$/, 'a group name: lower-case letters, digits and -, at most 31 characters');

/**
 * Who belongs to which group: group → principal patterns. In AWS (`datakit:approverGroups`) the patterns
 * are IAM principal ARNs; in embedded mode (`DATAKIT_GROUPS`) they are the names callers give in
 * `x-datakit-principal`. `*` matches any run of characters, `?` one character.
 */
export const groupPatternsSchema = z.record(groupNameSchema, z.array(z.string().min(1).max(2048)).max(100));

export type GroupPatterns = z.infer<typeof groupPatternsSchema>;
