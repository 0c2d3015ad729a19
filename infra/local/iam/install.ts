/**
 * Import this before anything that loads an AWS SDK client: it makes the SDK's default credential provider
 * answer with the invoking function's credentials (see `caller.ts`). Node evaluates the CommonJS packages a
 * static import graph reaches before any module of it, so an entry point imports this and then loads the
 * stack with a dynamic `import()` (`start.ts`), or runs with `--import` (the benchmarks); the infra tests
 * list it in `setupFiles`. `startLocalStack` fails, naming the early client, when that order was missed.
 */
import { installCallerCredentials } from './caller.ts';

installCallerCredentials();
