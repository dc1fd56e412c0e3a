/** Anything with a method and an API Gateway resource path (`/v1/packages/{namespace}`). */
export interface MatchableRoute {
  readonly method: string;
  readonly path: string;
}

export type RouteMatch<R extends MatchableRoute> =
  | { readonly kind: 'found'; readonly route: R; readonly pathParameters: Record<string, string> }
  | { readonly kind: 'method-not-allowed'; readonly allow: readonly string[] }
  | { readonly kind: 'not-found' };

interface CompiledRoute<R> {
  readonly route: R;
  readonly segments: readonly string[];
}

/**
 * Matches request paths against API Gateway resource paths the way API Gateway does: literal segments
 * win over `{param}` segments, parameters match one segment, and values are URL-decoded.
 */
export class Router<R extends MatchableRoute> {
  private readonly compiled: readonly CompiledRoute<R>[];

  constructor(routes: readonly R[]) {
    this.compiled = [...routes]
      .map((route) => ({ route, segments: splitPath(route.path) }))
      // Literal segments first, so /v1/packages/search beats /v1/packages/{namespace}.
      .sort((a, b) => specificity(b.segments) - specificity(a.segments));
  }

  match(method: string, rawPath: string): RouteMatch<R> {
    const segments = splitPath(rawPath);
    const allow = new Set<string>();
    for (const { route, segments: pattern } of this.compiled) {
      const parameters = matchSegments(pattern, segments);
      if (parameters === undefined) continue;
      if (route.method === method) return { kind: 'found', route, pathParameters: parameters };
      allow.add(route.method);
    }
    return allow.size === 0
      ? { kind: 'not-found' }
      : { kind: 'method-not-allowed', allow: [...allow].sort() };
  }
}

function splitPath(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '');
}

function specificity(segments: readonly string[]): number {
  return segments.reduce(
    (score, segment, index) => score + (isParameter(segment) ? 0 : 2 ** (16 - index)),
    0,
  );
}

function isParameter(segment: string): boolean {
  return segment.startsWith('{') && segment.endsWith('}');
}

function matchSegments(
  pattern: readonly string[],
  actual: readonly string[],
): Record<string, string> | undefined {
  if (pattern.length !== actual.length) return undefined;
  const parameters: Record<string, string> = {};
  for (let index = 0; index < pattern.length; index++) {
    const expected = pattern[index] ?? '';
    const value = actual[index] ?? '';
    if (isParameter(expected)) {
      const decoded = safeDecode(value);
      if (decoded === undefined) return undefined;
      parameters[expected.slice(1, -1)] = decoded;
    } else if (expected !== value) {
      return undefined;
    }
  }
  return parameters;
}

function safeDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}
