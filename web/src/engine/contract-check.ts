/**
 * The contract's response schemas, in the chunk loaded after first paint: every REST answer the engine reads
 * is parsed with the schema the server's route promises (`restContract`).
 */
import { restContract } from '@ciphertalk/shared/protocol';
import type { RouteKey } from './api-client.ts';
import { EngineError } from './errors.ts';
import type { Answer } from './http.ts';

export function check(key: RouteKey, answer: Answer): unknown {
  const [status, schema] = restContract[key].success;
  // A POST that creates may answer 200 with the existing resource (a retry, an existing direct conversation).
  if (answer.status !== status && !(status === 201 && answer.status === 200)) {
    throw new EngineError('off_contract', `${key} answered ${answer.status}, not ${status}`, {
      status: answer.status,
    });
  }
  if (schema === null) return undefined;
  const parsed = schema.safeParse(answer.body);
  if (!parsed.success) {
    throw new EngineError('off_contract', `${key} answered off its contract`, {
      status: answer.status,
      issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  }
  return parsed.data;
}
