/**
 * EventBridge event-pattern matching for the in-process bus, so the embedded mode applies the same rule
 * patterns the CDK stacks deploy. Supports what our rules use: exact values, `prefix`, `anything-but`,
 * `exists`, `numeric` and nesting.
 */
export type EventPattern = { readonly [field: string]: EventPattern | readonly PatternValue[] };

type PatternValue =
  | string
  | number
  | boolean
  | null
  | { readonly prefix: string }
  | { readonly 'anything-but': string | number | readonly (string | number)[] }
  | { readonly exists: boolean }
  | { readonly numeric: readonly (string | number)[] };

/** True when the event matches every field of the pattern. */
export function matchesPattern(event: unknown, pattern: EventPattern): boolean {
  if (!isRecord(event)) return false;
  return Object.entries(pattern).every(([field, expected]) => {
    const actual = event[field];
    if (isValueList(expected)) {
      const values: unknown[] = Array.isArray(actual) ? actual : [actual];
      return expected.some((rule) => matchesValue(rule, values, field in event));
    }
    return matchesPattern(actual, expected);
  });
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Array.isArray does not narrow a union holding a readonly array type.
function isValueList(value: EventPattern | readonly PatternValue[]): value is readonly PatternValue[] {
  return Array.isArray(value);
}

function matchesValue(rule: PatternValue, values: readonly unknown[], present: boolean): boolean {
  if (rule === null || typeof rule !== 'object') return values.some((value) => value === rule);
  if ('exists' in rule) return rule.exists === present;
  if ('prefix' in rule)
    return values.some((value) => typeof value === 'string' && value.startsWith(rule.prefix));
  if ('anything-but' in rule) {
    const excluded = Array.isArray(rule['anything-but']) ? rule['anything-but'] : [rule['anything-but']];
    return present && values.every((value) => !excluded.includes(value as string | number));
  }
  return values.some((value) => typeof value === 'number' && matchesNumeric(rule.numeric, value));
}

function matchesNumeric(conditions: readonly (string | number)[], value: number): boolean {
  for (let index = 0; index + 1 < conditions.length; index += 2) {
    const operator = conditions[index];
    const bound = Number(conditions[index + 1]);
    const ok =
      operator === '<'
        ? value < bound
        : operator === '<='
          ? value <= bound
          : operator === '>'
            ? value > bound
            : operator === '>='
              ? value >= bound
              : operator === '='
                ? value === bound
                : false;
    if (!ok) return false;
  }
  return true;
}
