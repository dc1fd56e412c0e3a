import * as z from 'zod';

/**
 * One reason a document or artifact was refused: a stable `code` (dk lint codes such as `E001`, or the
 * control plane's own), the dotted `path` of the offending field when there is one (`spec.inputs[0].dataset`), and a
 * sentence for humans.
 */
export const problemSchema = z.object({
  code: z.string().min(1),
  path: z.string().optional(),
  message: z.string().min(1),
});

export type Problem = z.infer<typeof problemSchema>;
