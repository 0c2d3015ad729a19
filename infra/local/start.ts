// First, before any AWS SDK client loads: the per-function credentials of the twin's IAM (see iam/caller.ts).
import './iam/install.ts';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Loaded after that (Node evaluates the CommonJS SDK packages a static import graph reaches before any of its code).
const { startLocalStack } = await import('./stack.ts');

/** `npm start`: the whole of CipherTalk on this machine. */
/** An optional positive duration; unset keeps API Gateway's own. */
const milliseconds = (name: string): number | undefined => {
  if (env[name] === undefined) return undefined;
  const value = Number(env[name]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive number of milliseconds`);
  return value;
};

const repo = fileURLToPath(new URL('../../', import.meta.url));
// A .env file (see .env.example) points at real services; variables already set win.
if (existsSync(`${repo}.env`)) process.loadEnvFile(`${repo}.env`);
const env = process.env;
const port = (name: string, fallback: number) => {
  const value = Number(env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error(`${name} must be a port number`);
  return value;
};

const webRoot = fileURLToPath(new URL('../../web/dist/', import.meta.url));

const stack = await startLocalStack({
  dataDir: env.LOCAL_DATA_DIR ?? `${repo}.local`,
  host: env.HOST ?? '127.0.0.1',
  ports: { rest: port('REST_PORT', 3000), ws: port('WS_PORT', 3001), web: port('WEB_PORT', 5173) },
  webRoot: existsSync(webRoot) ? webRoot : null,
  webSocket: { idleTimeoutMs: milliseconds('WS_IDLE_TIMEOUT_MS'), maxDurationMs: milliseconds('WS_MAX_DURATION_MS') },
  env,
  log: (line) => {
    if (String(line.level).toUpperCase() === 'ERROR' || env.TWIN_LOG === 'debug')
      process.stderr.write(`${JSON.stringify(line)}\n`);
  },
});

process.stdout.write(
  [
    'CipherTalk is running',
    `  SPA        ${stack.webUrl ?? '(not built: npm run build -w web)'}`,
    `  REST API   ${stack.restUrl}   (try ${stack.restUrl}/health)`,
    `  WebSocket  ${stack.wsUrl}`,
    `  database   ${stack.services.database}`,
    `  redis      ${stack.services.redis}`,
    `  s3         ${stack.services.s3}`,
    `  dynamodb   ${stack.services.dynamodb}`,
    `  mail       ${stack.outboxDir} (dev outbox: one JSON file per mail)`,
    `  iam        ${stack.iam ? "each function's role from the CDK template, enforced (TWIN_IAM=off disables)" : 'not enforced (TWIN_IAM=off)'}`,
    '',
  ].join('\n'),
);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    stack.stop().then(() => process.exit(0));
  });
}
