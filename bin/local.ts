import { resolve } from 'node:path';
import * as z from 'zod';
import { startEmbeddedControlPlane } from '../lambdas/embedded.js';
import { groupPatternsSchema } from '../lib/contracts/identity.js';
import { environmentsSchema } from '../lib/domain/promotions/environments.js';
import { jsonVariable } from '../lib/runtime/config.js';

const env = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(8080),
    HOST: z.string().min(1).default('127.0.0.1'),
    DATAKIT_DATA_DIR: z.string().min(1).default('.datakit'),
    LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT']).default('INFO'),
    DATAKIT_RUNNER: z.enum(['subprocess', 'docker']).default('subprocess'),
    REGISTRY_ALLOWLIST: z.string().min(1).optional(),
    REGISTRY_BLOB_HOSTS: z.string().optional(),
    REGISTRY_INSECURE_HOSTS: z.string().optional(),
    FUNCTION_TIMEOUT_MS: z.coerce.number().int().min(1000).max(900_000).optional(),
    /** Who belongs to which approver group: `{"owners":["alice","bob"],"security":["carol"]}`. */
    DATAKIT_GROUPS: jsonVariable(groupPatternsSchema).optional(),
    /** The environments and their approvals (default dev → int (owners) → prod (owners, security)). */
    DATAKIT_ENVIRONMENTS: jsonVariable(environmentsSchema).optional(),
    DATAKIT_APPROVAL_TIMEOUT_MINUTES: z.coerce.number().int().min(5).max(86_400).optional(),
    LINEAGE_EVENT_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).optional(),
    RUN_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).optional(),
    REGISTRATION_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).optional(),
    AUDIT_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).optional(),
    /** Namespace roles: `auto` (enforced once bindings or platform admins exist), `enforced`, `off`. */
    DATAKIT_ACCESS_CONTROL: z.enum(['auto', 'enforced', 'off']).optional(),
    DATAKIT_PLATFORM_ADMIN_GROUP: z.string().min(1).optional(),
    DATAKIT_NAMESPACE_READ_ACCESS: z.enum(['open', 'restricted']).optional(),
  })
  .safeParse(process.env);

if (!env.success) {
  for (const issue of env.error.issues) console.error(`invalid ${issue.path.join('.')}: ${issue.message}`);
  process.exit(2);
}

const plane = await startEmbeddedControlPlane({
  host: env.data.HOST,
  port: env.data.PORT,
  dataDir: resolve(env.data.DATAKIT_DATA_DIR),
  logLevel: env.data.LOG_LEVEL,
  runner: env.data.DATAKIT_RUNNER,
  ...(env.data.REGISTRY_ALLOWLIST === undefined ? {} : { registryAllowlist: env.data.REGISTRY_ALLOWLIST }),
  ...(env.data.REGISTRY_BLOB_HOSTS === undefined ? {} : { registryBlobHosts: env.data.REGISTRY_BLOB_HOSTS }),
  ...(env.data.REGISTRY_INSECURE_HOSTS === undefined
    ? {}
    : { registryInsecureHosts: env.data.REGISTRY_INSECURE_HOSTS }),
  ...(env.data.FUNCTION_TIMEOUT_MS === undefined ? {} : { functionTimeoutMs: env.data.FUNCTION_TIMEOUT_MS }),
  ...(env.data.DATAKIT_GROUPS === undefined ? {} : { groups: env.data.DATAKIT_GROUPS }),
  ...(env.data.DATAKIT_ENVIRONMENTS === undefined ? {} : { environments: env.data.DATAKIT_ENVIRONMENTS }),
  ...(env.data.DATAKIT_APPROVAL_TIMEOUT_MINUTES === undefined
    ? {}
    : { approvalTimeoutMinutes: env.data.DATAKIT_APPROVAL_TIMEOUT_MINUTES }),
  retention: {
    ...(env.data.LINEAGE_EVENT_RETENTION_DAYS === undefined
      ? {}
      : { lineageEventDays: env.data.LINEAGE_EVENT_RETENTION_DAYS }),
    ...(env.data.RUN_RETENTION_DAYS === undefined ? {} : { runDays: env.data.RUN_RETENTION_DAYS }),
    ...(env.data.REGISTRATION_RETENTION_DAYS === undefined
      ? {}
      : { registrationDays: env.data.REGISTRATION_RETENTION_DAYS }),
    ...(env.data.AUDIT_RETENTION_DAYS === undefined ? {} : { auditDays: env.data.AUDIT_RETENTION_DAYS }),
  },
  ...(env.data.DATAKIT_ACCESS_CONTROL === undefined
    ? {}
    : { accessControl: env.data.DATAKIT_ACCESS_CONTROL }),
  ...(env.data.DATAKIT_PLATFORM_ADMIN_GROUP === undefined
    ? {}
    : { platformAdminGroup: env.data.DATAKIT_PLATFORM_ADMIN_GROUP }),
  ...(env.data.DATAKIT_NAMESPACE_READ_ACCESS === undefined
    ? {}
    : { namespaceReadAccess: env.data.DATAKIT_NAMESPACE_READ_ACCESS }),
}).catch((error: unknown) => {
  // A refusal to open the data directory says what to do; a stack trace would bury it.
  console.error(`control plane did not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
plane.deps.logger.info('control plane listening', {
  url: plane.url,
  dataDir: resolve(env.data.DATAKIT_DATA_DIR),
});

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    plane.deps.logger.info('shutting down', { signal });
    plane.close().then(
      () => process.exit(0),
      (error: unknown) => {
        plane.deps.logger.error('shutdown failed', { error });
        process.exit(1);
      },
    );
  });
}
