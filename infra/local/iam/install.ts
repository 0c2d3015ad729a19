/**
 * Import this first (before anything that loads an AWS SDK client): it makes the SDK's default credential
 * provider answer with the invoking function's credentials (see `caller.ts`). `infra/local/stack.ts`,
 * `start.ts`, the benchmarks and the infra test set-up do.
 */
import { installCallerCredentials } from './caller.ts';

installCallerCredentials();
