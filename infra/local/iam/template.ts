import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The environment the twin synthesizes: its stage and resource names carry `local`, as the twin's do. */
export const twinEnvName = 'local';
export const twinStackName = `CipherTalk-${twinEnvName}`;

/** A CloudFormation resource as the synthesized template has it. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

/** What the twin needs of `cdk synth`: the template, and which Lambda and role each handler file became. */
export interface SynthesizedTemplate {
  readonly functions: Readonly<Record<string, { readonly functionId: string; readonly roleId: string }>>;
  readonly template: { readonly Resources: Readonly<Record<string, CfnResource>> };
}

/**
 * Everything the template's IAM is derived from: the CDK app (infra/lib, infra/bin, cdk.json), the route
 * table and the functions' sources (their imports decide the grants), and the locked dependency versions.
 */
const inputs = [
  'infra/lib',
  'infra/bin',
  'infra/local/iam/synth.ts',
  'cdk.json',
  'package-lock.json',
  'shared/src/routes.ts',
  'functions/src',
];

function files(path: string): string[] {
  const absolute = join(repoRoot, path);
  try {
    return readdirSync(absolute, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name))
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return [absolute];
    throw error;
  }
}

/** A hash of the synth's inputs: names and contents. */
export function templateInputsHash(): string {
  const hash = createHash('sha256');
  for (const file of inputs.flatMap(files)) {
    hash.update(relative(repoRoot, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 32);
}

export const templateCacheDir = join(repoRoot, 'node_modules', '.cache', 'ciphertalk-twin');

/**
 * The synthesized template for the twin's IAM: read from the cache when its inputs have not changed since
 * it was written, else synthesized (a few seconds, no bundling) and cached. Concurrent writers each write
 * a complete file and rename it into place, so readers never see half of one.
 */
export async function loadTemplate(
  options: { cacheDir?: string; log?: (line: Record<string, unknown>) => void } = {},
): Promise<SynthesizedTemplate> {
  const cacheDir = options.cacheDir ?? templateCacheDir;
  const file = join(cacheDir, `template-${templateInputsHash()}.json`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as SynthesizedTemplate;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const started = Date.now();
  const { synthesizeForTwin } = await import('./synth.ts');
  const synthesized = synthesizeForTwin();
  mkdirSync(cacheDir, { recursive: true });
  const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
  writeFileSync(temporary, JSON.stringify(synthesized));
  renameSync(temporary, file);
  options.log?.({ level: 'INFO', message: 'synthesized the CDK app for the twin IAM', ms: Date.now() - started });
  return synthesized;
}
