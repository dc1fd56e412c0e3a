import * as z from 'zod';
import { problemSchema } from '../problem.js';
import { pageSchema, paginationQuerySchema } from './common.js';
import { manifestKindSchema } from './packages.js';

/**
 * What became of one delivery of an artifact: `registered` (this delivery committed the version),
 * `duplicate` (the same digest was already registered) or `rejected` (with every reason).
 */
export const registrationStatusSchema = z.enum(['registered', 'duplicate', 'rejected']);
export type RegistrationStatus = z.infer<typeof registrationStatusSchema>;

/** Who asked: the API, an ECR push event, or a Docker-distribution notification (embedded mode). */
export const registrationSourceSchema = z.enum(['api', 'ecr', 'registry-webhook']);
export type RegistrationSource = z.infer<typeof registrationSourceSchema>;

/** The record of one registration attempt; rejections carry their problems. */
export const registrationRecordSchema = z
  .object({
    id: z.string(),
    status: registrationStatusSchema,
    source: registrationSourceSchema,
    /** The reference as given (tag or digest). */
    reference: z.string(),
    /** The tag the push used, when known. */
    tag: z.string().optional(),
    digest: z.string().optional(),
    namespace: z.string().optional(),
    name: z.string().optional(),
    version: z.string().optional(),
    kind: manifestKindSchema.optional(),
    /** Every reason for a rejection; empty otherwise. */
    problems: z.array(problemSchema),
    /** Lint warnings recorded with the version. */
    warnings: z.array(problemSchema),
    /** For a duplicate: the registration that committed the version. */
    duplicateOf: z.string().optional(),
    createdAt: z.string(),
  })
  .meta({ id: 'Registration' });

export type RegistrationRecord = z.infer<typeof registrationRecordSchema>;

/** `POST /v1/registrations`. */
export const createRegistrationBodySchema = z.strictObject({
  /** `<registry>/<repository>:<tag>` or `<registry>/<repository>@sha256:<hex>`. */
  reference: z.string().min(1).max(1024),
});

export const listRegistrationsQuerySchema = paginationQuerySchema.extend({
  status: registrationStatusSchema.optional(),
});

export const registrationPageSchema = pageSchema(registrationRecordSchema).meta({ id: 'RegistrationPage' });
