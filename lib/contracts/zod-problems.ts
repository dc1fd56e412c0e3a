import type * as z from 'zod';
import type { Problem } from './problem.js';

/** Formats a zod issue path the way every Problem does: `spec.inputs[0].dataset`. */
export function formatPath(path: readonly PropertyKey[], prefix?: string): string | undefined {
  let out = prefix ?? '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out === '' ? undefined : out;
}

/** One Problem per zod issue, all with the same code, paths optionally under `prefix` (`query`, `body`). */
export function problemsFromZod(error: z.ZodError, code: string, prefix?: string): Problem[] {
  return error.issues.map((issue) => {
    const path = formatPath(issue.path, prefix);
    return path === undefined ? { code, message: issue.message } : { code, path, message: issue.message };
  });
}
