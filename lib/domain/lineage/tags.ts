import { type TagEntry, tagsFacetSchema } from '../../contracts/openlineage/facets.js';

// Tags of jobs, datasets and their fields come from the producer's tags facet (OpenLineage's
// TagsDatasetFacet / TagsJobFacet: `{tags: [{key, value, source, field}]}`), read from the facets merged
// over events, so the newest tags facet decides. A Marquez tag is a bare name: a tag whose value is empty
// or `true` is named by its key (`pii`), any other by `key:value` (`classification:confidential`).

/** Longest tag name kept (Marquez's tag names are VARCHAR(255)). */
export const MAX_TAG_NAME_LENGTH = 255;

/** The Marquez tag name of one tags-facet entry. */
export function tagName(entry: TagEntry): string {
  const value = entry.value === undefined ? '' : String(entry.value).trim();
  const name = value === '' || value.toLowerCase() === 'true' ? entry.key : `${entry.key}:${value}`;
  return name.trim().slice(0, MAX_TAG_NAME_LENGTH);
}

function sortedUnique(names: Iterable<string>): string[] {
  return [...new Set([...names].filter((name) => name !== ''))].sort();
}

function entriesOf(facets: Record<string, unknown>): TagEntry[] {
  const parsed = tagsFacetSchema.safeParse(facets.tags);
  if (!parsed.success || parsed.data._deleted === true) return [];
  return parsed.data.tags;
}

/** The tags of a dataset and of each of its fields, from its (merged) facets. */
export function datasetTagsOf(facets: Record<string, unknown>): {
  dataset: string[];
  fields: ReadonlyMap<string, string[]>;
} {
  const entries = entriesOf(facets);
  const fields = new Map<string, string[]>();
  for (const entry of entries) {
    if (entry.field === undefined) continue;
    fields.set(entry.field, [...(fields.get(entry.field) ?? []), tagName(entry)]);
  }
  return {
    dataset: sortedUnique(entries.filter((entry) => entry.field === undefined).map(tagName)),
    fields: new Map([...fields].map(([field, names]) => [field, sortedUnique(names)])),
  };
}

/** The tags of a job, from its (merged) facets. */
export function jobTagsOf(facets: Record<string, unknown>): string[] {
  return sortedUnique(entriesOf(facets).map(tagName));
}

/** Tags merged from several sources, sorted, each once. */
export function mergeTags(...lists: readonly (Iterable<string> | undefined)[]): string[] {
  return sortedUnique(lists.flatMap((list) => (list === undefined ? [] : [...list])));
}
