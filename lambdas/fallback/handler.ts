import { Logger } from '@aws-lambda-powertools/logger';
import { type ApiHandler, createFallbackHandler } from '../../lib/api/http-handler.js';

let instance: ApiHandler | undefined;

/** Answers requests no route serves with 404 or 405 problem+json. */
export const handler: ApiHandler = (event, context) => {
  instance ??= createFallbackHandler(new Logger({ serviceName: 'datakit' }));
  return instance(event, context);
};
