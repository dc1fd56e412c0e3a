import { lazyContract, problemResponse, type Route } from '../route-definition.js';

const access = lazyContract(() => import('../../contracts/api/access.js'));

/** `access-api`: namespace role bindings and the audit trail (ADR 0018). */
export const accessFunctionNames = ['access-api'] as const;

type AccessFunction = (typeof accessFunctionNames)[number];

const roleRequired = problemResponse(
  'ROLE_REQUIRED: the caller lacks the role (errors[].message names the role and namespace)',
);

export const accessRoutes = {
  getNamespaceBindings: {
    method: 'GET',
    path: '/v1/namespaces/{namespace}/bindings',
    function: 'access-api',
    summary:
      "A namespace's role bindings: which principals and groups are viewer, publisher, deployer, admin",
    tag: 'access',
    access: { kind: 'read', of: 'admin', namespace: { path: 'namespace' } },
    pathParameters: access.namespacePathSchema,
    responses: {
      200: { description: 'The bindings (revision 0: none yet)', schema: access.namespaceBindingsSchema },
      400: problemResponse('Bad namespace'),
      403: roleRequired,
    },
  },
  putNamespaceBindings: {
    method: 'PUT',
    path: '/v1/namespaces/{namespace}/bindings',
    function: 'access-api',
    summary:
      "Replaces a namespace's role bindings (admins of the namespace, or of the platform); give the revision read to refuse concurrent changes",
    tag: 'access',
    access: {
      kind: 'write',
      role: 'admin',
      namespace: { path: 'namespace' },
      action: 'bindings.put',
      target: 'bindings:{path.namespace}',
    },
    pathParameters: access.namespacePathSchema,
    body: access.putBindingsBodySchema,
    maxBodyBytes: 64 * 1024,
    responses: {
      200: { description: 'The bindings as written', schema: access.namespaceBindingsSchema },
      400: problemResponse('Malformed bindings (errors[].path names the field)'),
      403: roleRequired,
      409: problemResponse('CONCURRENT_MODIFICATION: changed since the revision given; read and retry'),
    },
  },
  listAudit: {
    method: 'GET',
    path: '/v1/audit',
    function: 'access-api',
    summary:
      'The audit trail, newest first: every change and every refused change, by namespace, actor, action, target and time',
    tag: 'access',
    access: { kind: 'read', of: 'admin', namespace: { query: 'namespace' } },
    query: access.auditQuerySchema,
    responses: {
      200: { description: 'A page of records', schema: access.auditPageSchema },
      400: problemResponse('Bad query (errors[].path names the parameter), INVALID_CURSOR'),
      403: roleRequired,
    },
  },
} as const satisfies Record<string, Route<AccessFunction>>;
