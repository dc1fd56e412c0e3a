import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { ApiHandler } from '../../api/http-handler.js';
import { readJson } from '../../api/request.js';
import {
  manifestMediaTypes,
  type RegistryNotificationEvent,
  registryNotificationEnvelopeSchema,
  registryNotificationEventSchema,
} from '../../contracts/events/registry-notification.js';
import type { RegisterPackage } from '../../domain/registry/register-package.js';
import type { LocalRoute } from './http-server.js';

export const registryWebhookPath = '/local/registry-events';

/** What one envelope led to, in event order; the response body. */
interface WebhookOutcome {
  readonly reference: string;
  readonly status: string;
  readonly id?: string;
}

/**
 * The embedded stand-in for the ECR rule: a Docker-distribution notification endpoint. Manifest pushes
 * of a tag are registered from the registry the event names (the use case applies the allowlist), blob
 * pushes and pulls are ignored. It always answers 2xx — a registry retries a failed delivery forever —
 * and logs what failed; `GET /v1/registrations` shows every outcome.
 */
export function registryWebhookRoute(registerPackage: RegisterPackage, logger: Logger): LocalRoute {
  const handler: ApiHandler = async (event) => {
    let body: unknown;
    try {
      const headers = Object.fromEntries(
        Object.entries(event.headers ?? {}).flatMap(([name, value]) =>
          value === undefined ? [] : [[name.toLowerCase(), value]],
        ),
      );
      body = readJson(event, headers, 10 * 1024 * 1024);
    } catch (error) {
      logger.warn('registry notification is not JSON', { error });
      return accepted([]);
    }
    const envelope = registryNotificationEnvelopeSchema.safeParse(body);
    if (!envelope.success) {
      logger.warn('registry notification is not an envelope', { issues: envelope.error.issues });
      return accepted([]);
    }
    const outcomes: WebhookOutcome[] = [];
    for (const raw of envelope.data.events) {
      const parsed = registryNotificationEventSchema.safeParse(raw);
      const push = parsed.success ? manifestPush(parsed.data) : undefined;
      if (push === undefined) continue;
      try {
        const result = await registerPackage({
          reference: push.reference,
          tag: push.tag,
          source: 'registry-webhook',
        });
        logger.info('registration', {
          status: result.status,
          id: result.record.id,
          reference: push.reference,
        });
        outcomes.push({ reference: push.reference, status: result.status, id: result.record.id });
      } catch (error) {
        logger.error('registration failed', { reference: push.reference, error });
        outcomes.push({ reference: push.reference, status: 'failed' });
      }
    }
    return accepted(outcomes);
  };
  return { method: 'POST', path: registryWebhookPath, handler };
}

/** A manifest pushed under a tag, as a digest reference on the registry that received the push. */
function manifestPush(event: RegistryNotificationEvent): { reference: string; tag: string } | undefined {
  const { target } = event;
  if (event.action !== 'push' || target.tag === undefined || target.digest === undefined) return undefined;
  if (target.mediaType === undefined || !manifestMediaTypes.has(target.mediaType)) return undefined;
  if (target.repository === undefined) return undefined;
  const host = event.request?.host ?? urlHost(target.url);
  if (host === undefined) return undefined;
  return { reference: `${host}/${target.repository}@${target.digest}`, tag: target.tag };
}

function urlHost(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

function accepted(outcomes: readonly WebhookOutcome[]): APIGatewayProxyResult {
  return {
    statusCode: 202,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ registrations: outcomes }),
  };
}
