import { loadTemplate } from '../../local/iam/template.ts';

/**
 * Once per run, before the test workers start: synthesize the CDK app for the twin's IAM when the cached
 * template is stale, so the stacks of parallel test files all read the cache instead of each synthesizing.
 */
export default async function synthesizeOnce(): Promise<void> {
  await loadTemplate();
}
