import { z } from 'zod';

/**
 * Every string of the protocol: a zod string that refuses U+0000. PostgreSQL cannot store NUL in `text`, and
 * no name, query or token needs one, so it is refused at the schema (400) instead of failing in the database
 * (500). Use `text()` wherever a schema would say `z.string()`; `test/no-nul.test.ts` walks every exported
 * schema and fails on a string field that accepts NUL.
 */
export const text = () => z.string().refine((value) => !value.includes('\u0000'), 'Must not contain U+0000');
