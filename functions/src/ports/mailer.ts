/** Outgoing email. SES in AWS; locally a dev outbox directory a developer (or a test) reads. */
export interface Mail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

export interface Mailer {
  send(mail: Mail): Promise<void>;
}
