import { mkdir, mkdtemp } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

export interface EmbeddedS3 {
  readonly endpoint: string;
  close(): Promise<void>;
}

/**
 * s3rver: an S3 emulator on the local disk. It checks neither SigV4 signatures
 * nor POST policies: the local stack reaches it only through the verifier in
 * `s3-verifier.ts`, which does (see README).
 */
export async function startS3rver(options: {
  dataDir: string | null;
  port: number;
  host?: string;
  /** Access key id → secret: keys s3rver accepts besides its own `S3RVER` (the twin's per-function keys). */
  accessKeys?: Readonly<Record<string, string>>;
}): Promise<EmbeddedS3> {
  // s3rver knows one account with one key pair and refuses other key ids; its account model takes more.
  const { DUMMY_ACCOUNT } = createRequire(import.meta.url)('s3rver/lib/models/account.js') as {
    DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void };
  };
  for (const [id, secret] of Object.entries(options.accessKeys ?? {})) DUMMY_ACCOUNT.createKeyPair(id, secret);
  const directory = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'ciphertalk-s3-')));
  await mkdir(directory, { recursive: true });
  const server = new S3rver({
    address: options.host ?? '127.0.0.1',
    port: options.port,
    directory,
    silent: true,
    resetOnClose: options.dataDir === null,
  });
  const { address, port } = await server.run();
  return { endpoint: `http://${address}:${port}`, close: () => server.close() };
}
