import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Mail, Mailer } from '#ports/mailer.ts';

/**
 * The dev outbox: each mail is a JSON file `<time>-<random>.json` in `dir` (mode 0600), for a developer to
 * open (`.local/outbox/`) and for tests to read. Nothing is sent and nothing is logged.
 */
export class OutboxMailer implements Mailer {
  constructor(private readonly dir: string) {}

  async send(mail: Mail): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const name = `${new Date().toISOString().replaceAll(':', '-')}-${randomBytes(4).toString('hex')}.json`;
    await writeFile(join(this.dir, name), `${JSON.stringify(mail, null, 2)}\n`, { mode: 0o600 });
  }
}
