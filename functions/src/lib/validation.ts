import type { z } from 'zod';
import { InvalidJsonError, ValidationError } from '#domain/errors.ts';

/** Parses JSON text, throwing the client error that names the problem. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new InvalidJsonError(cause);
  }
}

/** Validates with a shared schema; the error lists failing paths and messages, never the values. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
  throw new ValidationError(`The ${what} is invalid`, issues);
}
