import { Annotations, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface MailProps {
  /** `Name <address>` or `address`: an SES identity (the address or its domain) verified in the account. */
  readonly from?: string;
}

/**
 * Account mail (password resets) through SES. Without a sender the deployment has password resets switched
 * off: the functions get `MAILER=off` and no SES grant, and synth says so. There is no usable default: SES
 * refuses to send from an identity the account has not verified.
 */
export class Mail extends Construct {
  /** The sender's address and its domain: SES authorises a send against whichever identity is verified. */
  readonly identities: readonly string[];

  constructor(
    scope: Construct,
    id: string,
    private readonly props: MailProps,
  ) {
    super(scope, id);
    const address = props.from ? (/<([^>]+)>$/.exec(props.from)?.[1] ?? props.from) : undefined;
    this.identities = address ? [address, address.split('@')[1] ?? address] : [];
    if (!props.from) {
      Annotations.of(this).addWarningV2(
        'ciphertalk:mailFrom',
        'ciphertalk:mailFrom is unset, so password resets are switched off (POST /auth/password-reset answers 404). ' +
          'Set it to an SES-verified sender to switch them on.',
      );
    }
  }

  get enabled(): boolean {
    return this.props.from !== undefined;
  }

  /** ses:SendEmail from the sender's identities only, with the sender; or `MAILER=off` without one. */
  grantSend(fn: lambda.Function): void {
    if (!this.props.from) {
      fn.addEnvironment('MAILER', 'off');
      return;
    }
    const stack = Stack.of(this);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ses:SendEmail'],
        resources: this.identities.map((identity) =>
          stack.formatArn({ service: 'ses', resource: 'identity', resourceName: identity }),
        ),
      }),
    );
    fn.addEnvironment('MAILER', 'ses');
    fn.addEnvironment('MAIL_FROM', this.props.from);
  }
}
