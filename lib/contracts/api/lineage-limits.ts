// The limits of the lineage API, apart from its schemas: the ingestion function needs the limits but
// none of the Marquez read schemas, which cost its cold start when evaluated.

/** Largest `depth` of the lineage endpoints. */
export const maxLineageDepth = 100;
/** Events per `POST /api/v1/lineage/batch`. */
export const maxLineageBatchEvents = 100;
/** Largest body of the ingestion endpoints (after decompression). */
export const maxLineageBodyBytes = 5 * 1024 * 1024;
