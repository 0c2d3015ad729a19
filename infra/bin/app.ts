import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CipherTalkStack } from '../lib/ciphertalk-stack.ts';
import { readConfig } from '../lib/config.ts';
import { acknowledgeFindings } from '../lib/nag.ts';

/**
 * The CDK app: one CipherTalk stack per deployment, environment-agnostic (no
 * account or region lookups), so `cdk synth` works offline without credentials.
 * Settings: `ciphertalk:*` context (cdk.json defaults, `-c key=value` overrides).
 */
const app = new App();
const config = readConfig(app.node);
const stack = new CipherTalkStack(app, `CipherTalk-${config.envName}`, {
  config,
  description: `CipherTalk (${config.envName}): end-to-end-encrypted messaging`,
});
acknowledgeFindings(stack);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
