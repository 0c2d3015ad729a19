import { describe, expect, it, vi } from 'vitest';
import { bestEffortMailer, mailFailureMetric } from '#adapters/best-effort.ts';
import { logger, metrics } from '#lib/observability.ts';

/**
 * A failed password-reset mail answers exactly like a sent one (issue 13, finding 7): an unknown address
 * sends nothing and cannot fail, so a different answer would tell which addresses have accounts.
 */
const mail = { to: 'alice@example.com', subject: 'Reset your CipherTalk password', text: 'link' };

describe('bestEffortMailer', () => {
  it('resolves when the send fails, logging it (without the recipient) and counting it for the alarm', async () => {
    const error = vi.spyOn(logger, 'error').mockImplementation(() => undefined);
    const count = vi.spyOn(metrics, 'addMetric').mockImplementation(() => metrics);
    try {
      const failing = {
        send: vi.fn(async () => Promise.reject(new Error('MessageRejected: Email address is not verified'))),
      };
      await expect(bestEffortMailer(failing).send(mail)).resolves.toBeUndefined();
      expect(failing.send).toHaveBeenCalledOnce();
      expect(error).toHaveBeenCalledOnce();
      expect(JSON.stringify(error.mock.calls)).not.toContain('alice@example.com');
      expect(count).toHaveBeenCalledWith(mailFailureMetric, 'Count', 1);
    } finally {
      error.mockRestore();
      count.mockRestore();
    }
  });

  it('passes a successful send through and counts nothing', async () => {
    const count = vi.spyOn(metrics, 'addMetric');
    try {
      const sent = { send: vi.fn(async () => undefined) };
      await bestEffortMailer(sent).send(mail);
      expect(sent.send).toHaveBeenCalledWith(mail);
      expect(count).not.toHaveBeenCalled();
    } finally {
      count.mockRestore();
    }
  });
});
