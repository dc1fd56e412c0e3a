import { UnsupportedMediaTypeError } from './errors.js';
import { type HttpRequest, readBody } from './request.js';

const accepted = new Set([
  '',
  'application/json',
  'text/json',
  'application/yaml',
  'application/x-yaml',
  'text/yaml',
  'text/x-yaml',
]);

/** The text of a manifest body: JSON, or YAML with a YAML content type (YAML is a superset of JSON). */
export function readManifestBody(request: HttpRequest, maxBytes: number): string {
  const mediaType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!accepted.has(mediaType) && !mediaType.endsWith('+json') && !mediaType.endsWith('+yaml')) {
    throw new UnsupportedMediaTypeError(
      'UNSUPPORTED_MEDIA_TYPE',
      `Content-Type ${mediaType} is not supported; send the manifest as application/json or application/yaml.`,
    );
  }
  return readBody(request.event, request.headers, maxBytes).toString('utf8');
}
