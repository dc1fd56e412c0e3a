// Search without a Scan: every job and dataset name is indexed under its words (lower-cased runs of
// letters and digits), and a query looks up the longest word it holds by prefix, then keeps the names
// that match the whole query the way Marquez's `ILIKE '%q%'` does (`%` any run, `_` one character).

/** Longest indexed word; longer words are indexed by their first 64 characters. */
export const MAX_TERM_LENGTH = 64;
/** Words indexed per name at most. */
export const MAX_TERMS_PER_NAME = 16;

function words(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word !== '');
}

/** The index terms of a name: its distinct words, truncated, at most `MAX_TERMS_PER_NAME`. */
export function searchTerms(name: string): string[] {
  return [...new Set(words(name).map((word) => word.slice(0, MAX_TERM_LENGTH)))].slice(0, MAX_TERMS_PER_NAME);
}

/** The term a query is looked up by (its longest word, truncated); `undefined` when it has no word. */
export function queryTerm(query: string): string | undefined {
  const longest = words(query).sort((a, b) => b.length - a.length)[0];
  return longest?.slice(0, MAX_TERM_LENGTH);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Marquez's match: `name ILIKE '%' || q || '%'`, with `%` and `_` as wildcards. */
export function matchesQuery(name: string, query: string): boolean {
  const pattern = [...query.toLowerCase()]
    .map((char) => (char === '%' ? '.*' : char === '_' ? '.' : escapeRegExp(char)))
    .join('');
  return new RegExp(pattern, 'su').test(name.toLowerCase());
}
