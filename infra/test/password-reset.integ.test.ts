import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ApiClient, registered, strongPassword, uniqueEmail } from './support/api.ts';
import { captureOutput } from './support/capture-output.ts';
import { stackOnFreshSchema } from './support/stack-fixture.ts';

/** Password reset through the twin: real PostgreSQL, the dev outbox as the mailer, production rate limits. */
const appUrl = 'http://localhost:5173';
const fx = stackOnFreshSchema({ env: { POWERTOOLS_LOG_LEVEL: 'DEBUG', ALLOWED_ORIGINS: appUrl } });

interface OutboxMail {
  to: string;
  subject: string;
  text: string;
}
async function mailsTo(email: string): Promise<OutboxMail[]> {
  const files = (await readdir(fx.stack.outboxDir)).sort();
  const mails = await Promise.all(
    files.map(async (f) => JSON.parse(await readFile(join(fx.stack.outboxDir, f), 'utf8')) as OutboxMail),
  );
  return mails.filter((m) => m.to === email);
}
const tokenOf = (mail: OutboxMail | undefined) => {
  const match = /#\/reset-password\?token=([\w-]+)/.exec(mail?.text ?? '');
  if (!match?.[1]) throw new Error('no reset link in the mail');
  return match[1];
};
const anonymous = () => new ApiClient(fx.stack.restUrl);

describe('password reset', () => {
  it('answers the same 202 for known and unknown emails, and mails a link only to the account', async () => {
    const { email } = await registered(fx.stack.restUrl, 'known');
    const unknownEmail = uniqueEmail('unknown');
    const known = await anonymous().post('/auth/password-reset', { email });
    const unknown = await anonymous().post('/auth/password-reset', { email: unknownEmail });
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect(unknown.text).toBe(known.text);
    expect(await mailsTo(unknownEmail)).toEqual([]);
    const [mail] = await mailsTo(email);
    expect(mail?.subject).toMatch(/reset/i);
    expect(mail?.text).toContain(`${appUrl}/#/reset-password?token=`);
    expect(known.text).not.toContain(tokenOf(mail));
  });

  it('sets the new password with the mailed token, once, and ends every session', async () => {
    const { email, password, client } = await registered(fx.stack.restUrl, 'reset');
    const cookie = client.refreshCookie;
    await anonymous().post('/auth/password-reset', { email });
    const token = tokenOf((await mailsTo(email)).at(-1));
    const next = strongPassword();
    const weak = await anonymous().post('/auth/password-reset/confirm', { token, newPassword: email });
    expect(weak.body.error?.code).toBe('weak_password');
    const done = await anonymous().post('/auth/password-reset/confirm', { token, newPassword: next });
    expect(done.status).toBe(204);
    expect((await client.get('/me')).status).toBe(401);
    client.refreshCookie = cookie;
    expect((await client.post('/auth/refresh')).status).toBe(401);
    expect((await anonymous().post('/auth/login', { email, password })).status).toBe(401);
    const fresh = anonymous();
    expect((await fresh.post('/auth/login', { email, password: next })).status).toBe(200);
    const again = await anonymous().post('/auth/password-reset/confirm', { token, newPassword: strongPassword() });
    expect(again.status).toBe(400);
    expect(again.body.error?.code).toBe('invalid_token');
    const types = ((await fresh.get('/me/audit')).body.events as { type: string }[]).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['password_reset_requested', 'password_reset_completed']));
  });

  it('refuses an unknown, superseded or expired token', async () => {
    const unknown = await anonymous().post('/auth/password-reset/confirm', {
      token: 'A'.repeat(43),
      newPassword: strongPassword(),
    });
    expect(unknown.body.error?.code).toBe('invalid_token');

    const { email } = await registered(fx.stack.restUrl, 'expire');
    await anonymous().post('/auth/password-reset', { email });
    const first = tokenOf((await mailsTo(email)).at(-1));
    await anonymous().post('/auth/password-reset', { email });
    const second = tokenOf((await mailsTo(email)).at(-1));
    expect(second).not.toBe(first);
    const superseded = await anonymous().post('/auth/password-reset/confirm', {
      token: first,
      newPassword: strongPassword(),
    });
    expect(superseded.body.error?.code).toBe('invalid_token');

    const client = new pg.Client({ connectionString: fx.schema.url });
    await client.connect();
    await client.query("UPDATE password_resets SET expires_at = now() - interval '1 second' WHERE used_at IS NULL");
    await client.end();
    const expired = await anonymous().post('/auth/password-reset/confirm', {
      token: second,
      newPassword: strongPassword(),
    });
    expect(expired.body.error?.code).toBe('invalid_token');
  });

  it('mails one inbox at most 3 times an hour, known or not (429 with Retry-After)', async () => {
    for (const email of [(await registered(fx.stack.restUrl, 'bomb')).email, uniqueEmail('bomb-unknown')]) {
      for (let i = 0; i < 3; i++) expect((await anonymous().post('/auth/password-reset', { email })).status).toBe(202);
      const limited = await anonymous().post('/auth/password-reset', { email });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    }
  });

  it('keeps the reset token out of every log line', async () => {
    const { email } = await registered(fx.stack.restUrl, 'logs');
    const { written, restore } = captureOutput();
    let token = '';
    const next = strongPassword();
    try {
      await anonymous().post('/auth/password-reset', { email });
      token = tokenOf((await mailsTo(email)).at(-1));
      await anonymous().post('/auth/password-reset/confirm', { token, newPassword: next });
      await anonymous().post('/auth/password-reset/confirm', { token, newPassword: next });
    } finally {
      restore();
    }
    const logs = written.join('');
    expect(logs).toContain('"message":"request"');
    expect(logs).not.toContain(token);
    expect(logs).not.toContain(next);
  });

  it('answers a failed send exactly like a sent one, and logs it without the address (finding 7)', async () => {
    const { email } = await registered(fx.stack.restUrl, 'unsent');
    const unknownEmail = uniqueEmail('unsent-unknown');
    // The outbox becomes a file: every send fails, as SES refusing the sender or throttling would.
    await rm(fx.stack.outboxDir, { recursive: true, force: true });
    await writeFile(fx.stack.outboxDir, 'not a directory');
    const { written, restore } = captureOutput();
    try {
      const known = await anonymous().post('/auth/password-reset', { email });
      const unknown = await anonymous().post('/auth/password-reset', { email: unknownEmail });
      expect(known.status).toBe(202);
      expect(unknown.status).toBe(202);
      expect(known.text).toBe(unknown.text);
    } finally {
      restore();
      await rm(fx.stack.outboxDir, { force: true });
      await mkdir(fx.stack.outboxDir, { recursive: true });
    }
    const logs = written.join('');
    expect(logs).toContain('"message":"account mail failed"');
    expect(logs).not.toContain(email);
  });
});
