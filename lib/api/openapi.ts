import * as z from 'zod';
import { loadRoute } from './route-definition.js';
import { routeList } from './routes.js';

type JsonSchema = Record<string, unknown>;

const toSchema = (schema: z.ZodType, io: 'input' | 'output'): JsonSchema =>
  z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any', reused: 'inline' });

/** The parameters of a path or query schema, one per property of its JSON Schema. */
function parameters(schema: z.ZodType | undefined, location: 'path' | 'query'): JsonSchema[] {
  if (schema === undefined) return [];
  const json = toSchema(schema, 'input');
  const properties = typeof json.properties === 'object' && json.properties !== null ? json.properties : {};
  const required = Array.isArray(json.required) ? json.required : [];
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: location,
    required: location === 'path' || required.includes(name),
    schema: property,
  }));
}

/**
 * The OpenAPI 3.1 document of this API, generated from the route table and its zod schemas, so the
 * document cannot drift from what the handlers validate. It builds every schema of the API.
 */
export async function openApiDocument(version: string): Promise<JsonSchema> {
  const paths: Record<string, Record<string, unknown>> = {};
  const definitions = await Promise.all(
    routeList.map(async (route) => ({ ...(await loadRoute(route)), operationId: route.operationId })),
  );
  for (const route of definitions) {
    const operation: JsonSchema = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      security: [{ sigv4: [] }],
      parameters: [...parameters(route.pathParameters, 'path'), ...parameters(route.query, 'query')],
      responses: Object.fromEntries(
        Object.entries(route.responses).map(([status, response]) => [
          status,
          {
            description: response.description,
            ...(response.schema === undefined
              ? {}
              : {
                  content: {
                    [response.contentType ?? 'application/json']: {
                      schema: toSchema(response.schema, 'output'),
                    },
                  },
                }),
          },
        ]),
      ),
      ...(route.body === undefined
        ? {}
        : {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: toSchema(route.body, 'input') } },
            },
          }),
    };
    paths[route.path] = { ...paths[route.path], [route.method.toLowerCase()]: operation };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'DataKit Control Plane API',
      version,
      description:
        'Package registry, lineage, runs and promotion for DataKit. Errors are RFC 9457 problem+json.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    components: {
      securitySchemes: {
        sigv4: {
          type: 'apiKey',
          name: 'Authorization',
          in: 'header',
          'x-amazon-apigateway-authtype': 'awsSigv4',
        },
      },
    },
    paths,
  };
}
