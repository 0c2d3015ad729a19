import { SESv2Client } from '@aws-sdk/client-sesv2';
import { bestEffortMailer } from '#adapters/best-effort.ts';
import { OutboxMailer } from '#adapters/outbox-mailer.ts';
import { SesMailer } from '#adapters/ses-mailer.ts';
import { config, required } from '#config';
import type { Mailer } from '#ports/mailer.ts';
import { once } from './once.ts';

/**
 * Account mail (`mail.grantSend` in AWS: ses:SendEmail from the configured identity only), or the dev outbox.
 * Null when mail is off (`MAILER=off`: the deployment names no sender, so password resets are off).
 * A failed send is logged and counted, never answered differently (see bestEffortMailer).
 */
const from = config.mail.mailer === 'ses' ? required(config.mail.from, 'MAIL_FROM') : undefined;

export const mailer = once((): Mailer | null => {
  if (config.mail.mailer === 'off') return null;
  if (config.mail.mailer === 'outbox') {
    return bestEffortMailer(new OutboxMailer(config.mail.outboxDir ?? '.local/outbox'));
  }
  return bestEffortMailer(new SesMailer(new SESv2Client({ region: config.region }), from ?? ''));
});
