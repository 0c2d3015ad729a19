import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CipherTalkStack, defaultWebDistDir } from '../../lib/ciphertalk-stack.ts';
import { readConfig } from '../../lib/config.ts';
import { repoRoot } from '../../lib/function-access.ts';
import { acknowledgeFindings } from '../../lib/nag.ts';

/**
 * The stack as `cdk synth` builds it (cdk.json's context: feature flags and
 * defaults), minus the slow parts: no bundling (`aws:cdk:bundling-stacks`) and
 * no cyclic-dependency check of the template. The SPA is the real web/dist,
 * built first when missing.
 */
export function synthCipherTalk(context: Record<string, unknown> = {}) {
  if (!existsSync(join(defaultWebDistDir, 'index.html'))) {
    execFileSync('npm', ['run', 'build', '-w', 'web'], { cwd: repoRoot, stdio: 'ignore' });
  }
  const cdkJson = JSON.parse(readFileSync(join(repoRoot, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  const app = new App({ context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], ...context } });
  const stack = new CipherTalkStack(app, 'CipherTalk-test', { config: readConfig(app.node) });
  acknowledgeFindings(stack);
  const template = Template.fromStack(stack, { skipCyclicalDependenciesCheck: true });
  return { app, stack, template, nag: () => new AwsSolutionsChecks(app).validateScope(stack) };
}

export type Synthesized = ReturnType<typeof synthCipherTalk>;

/** The resources of one type whose properties match, as [logicalId, properties]. */
export function resources(template: Template, type: string): [string, Record<string, unknown>][] {
  return Object.entries(template.findResources(type)).map(([id, r]) => [
    id,
    ((r as { Properties?: Record<string, unknown> }).Properties ?? {}) as Record<string, unknown>,
  ]);
}

/** The environment variables of the stack's function `name` (functions/src/handlers/<name>.ts). */
export function functionEnvironment(synth: Synthesized, name: string): Record<string, unknown> {
  const id = synth.stack.getLogicalId(synth.stack.node.findChild(`Fn-${name}`).node.defaultChild as never);
  const [, fn] = resources(synth.template, 'AWS::Lambda::Function').find(([fnId]) => fnId === id) ?? [];
  return (fn?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
}
