import * as z from 'zod';
import { dataSetRefSchema, manifestKindSchema } from '../api/packages.js';
import { registrationSourceSchema } from '../api/registrations.js';
import { problemSchema } from '../problem.js';

/** At most this many problems travel in a rejection event; the registration record holds all of them. */
export const maxEventProblems = 50;

/** Detail of `Package Version Registered`: a version became visible. */
export const packageVersionRegisteredSchema = z.object({
  registrationId: z.string(),
  namespace: z.string(),
  name: z.string(),
  version: z.string(),
  kind: manifestKindSchema,
  digest: z.string(),
  repository: z.string(),
  registeredAt: z.string(),
  /** DataSets the version declares. */
  datasets: z.array(dataSetRefSchema),
  inputs: z.array(dataSetRefSchema),
  outputs: z.array(dataSetRefSchema),
});

export type PackageVersionRegistered = z.infer<typeof packageVersionRegisteredSchema>;

/** Detail of `Package Registration Rejected`: an artifact was refused (E021 conflicts included). */
export const packageRegistrationRejectedSchema = z.object({
  registrationId: z.string(),
  source: registrationSourceSchema,
  reference: z.string(),
  digest: z.string().optional(),
  namespace: z.string().optional(),
  name: z.string().optional(),
  version: z.string().optional(),
  problems: z.array(problemSchema).max(maxEventProblems),
  /** How many problems the record holds in total. */
  problemCount: z.number().int().nonnegative(),
  rejectedAt: z.string(),
});

export type PackageRegistrationRejected = z.infer<typeof packageRegistrationRejectedSchema>;
