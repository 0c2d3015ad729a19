import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { CipherTalkStack } from '../../lib/ciphertalk-stack.ts';
import { readConfig } from '../../lib/config.ts';
import { CipherTalkFunction } from '../../lib/constructs/function.ts';
import { repoRoot } from '../../lib/function-access.ts';
import { type SynthesizedTemplate, twinEnvName, twinStackName } from './template.ts';

/**
 * The CDK app as `cdk synth` builds it (cdk.json's context), for its IAM only: no bundling
 * (`aws:cdk:bundling-stacks`), a placeholder SPA, envName `local`. Loaded only when the cache is stale.
 */
export function synthesizeForTwin(): SynthesizedTemplate {
  const cdkJson = JSON.parse(readFileSync(join(repoRoot, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  const scratch = mkdtempSync(join(tmpdir(), 'ciphertalk-twin-synth-'));
  try {
    const webDistDir = join(scratch, 'web');
    mkdirSync(webDistDir);
    writeFileSync(join(webDistDir, 'index.html'), '');
    const app = new App({
      outdir: join(scratch, 'cdk.out'),
      context: {
        ...cdkJson.context,
        'aws:cdk:bundling-stacks': [],
        'ciphertalk:envName': twinEnvName,
      },
    });
    const stack = new CipherTalkStack(app, twinStackName, {
      config: readConfig(app.node),
      webDistDir,
    });
    const functions: Record<string, { functionId: string; roleId: string }> = {};
    for (const construct of stack.node.findAll()) {
      if (!(construct instanceof CipherTalkFunction) || !construct.role) continue;
      functions[construct.handlerName] = {
        functionId: Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement),
        roleId: Stack.of(construct).getLogicalId(construct.role.node.defaultChild as CfnElement),
      };
    }
    const template = app.synth().getStackByName(stack.stackName).template as SynthesizedTemplate['template'];
    return { functions, template };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
