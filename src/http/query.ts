// Query parameters: fastify's parser gives a repeated parameter as an array, which no endpoint
// accepts; it is a shape error (1519), never a TypeError (a 500).
import type { FastifyRequest } from 'fastify';
import { fail } from '../domain/errors.ts';

/** One query parameter: absent or a single string; a repeated one is 1519. */
export const single = (v: unknown): string | undefined => (v === undefined || typeof v === 'string' ? v : fail(1519));

/** The named parameter of the request's query string. */
export const queryParam = (req: FastifyRequest, name: string): string | undefined =>
  single((req.query as Record<string, unknown> | undefined)?.[name]);
