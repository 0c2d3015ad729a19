/**
 * Cold start of every function, as the stack builds it: each handler bundled by esbuild with the settings
 * of `infra/lib/constructs/function.ts` (`functionBundling`: ESM, whitespace and syntax minified, no source
 * map, `@aws-sdk/*` external, native packages copied with their linux-arm64 prebuilds, migrations for
 * `migrate`), then
 *
 * - its size unzipped and zipped (deflate level 9 per file plus zip headers, as a Lambda zip asset);
 * - the time to import it in a fresh Node process, median of several runs, beside a floor: an empty ESM
 *   module imported the same way.
 *
 * Imports run with the environment the template gives the function (resolved as the twin resolves it), so
 * module-scope configuration is read as in Lambda; the AWS SDK comes from node_modules, as the runtime's
 * would. `BENCH_COLD_RUNS` (default 7) runs per function. `npm run bench:cold`.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import { functions } from '@ciphertalk/shared/routes';
import { build } from 'esbuild';
import { functionBundling } from '../lib/constructs/function.ts';
import { functionsDir, handlerEntry, nativePackages, repoRoot, scanImports } from '../lib/function-access.ts';
import { buildIamModel } from '../local/iam/model.ts';
import { loadTemplate, twinStackName } from '../local/iam/template.ts';

const runs = Number(process.env.BENCH_COLD_RUNS ?? 7);
const names = [...Object.keys(functions), 'migrate'];
const goals = {
  zippedKb: 300,
  importMs: 100,
  fastFunctions: ['wsPing', 'wsDefault', 'authorizer', 'realtime', 'health'],
};
const outDir = join(repoRoot, 'node_modules', '.cache', 'ciphertalk-bench-cold');

/** A file as it goes into the zip: what a linux-arm64 Lambda gets (other platforms' prebuilds are removed). */
const deployed = (path: string) => !/[\\/]prebuilds[\\/](?!linux-arm64)/.test(path);

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Size of a zip of these files: local header (30) + name + data, central entry (46) + name, end record (22). */
function zippedBytes(dir: string, paths: readonly string[]): number {
  let total = 22;
  for (const path of paths) {
    const name = Buffer.byteLength(relative(dir, path));
    const data = readFileSync(path);
    total += 30 + 46 + 2 * name + Math.min(data.length, deflateRawSync(data, { level: 9 }).length);
  }
  return total;
}

async function bundle(name: string) {
  const dir = join(outDir, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const native = [...scanImports(name).packages].flatMap((pkg) => nativePackages[pkg] ?? []);
  await build({
    entryPoints: [handlerEntry(name)],
    outfile: join(dir, 'index.mjs'),
    bundle: true,
    platform: 'node',
    format: functionBundling.format,
    target: functionBundling.target,
    mainFields: [...functionBundling.mainFields],
    banner: { js: functionBundling.banner },
    minifyWhitespace: functionBundling.minifyWhitespace,
    minifySyntax: functionBundling.minifySyntax,
    sourcemap: functionBundling.sourceMap,
    external: [...functionBundling.externalModules, ...native],
    logLevel: 'silent',
  });
  // The host's prebuilds stay on disk so the import below can load them; the size counts linux-arm64 only.
  for (const pkg of native)
    cpSync(join(repoRoot, 'node_modules', pkg), join(dir, 'node_modules', pkg), { recursive: true });
  if (name === 'migrate') cpSync(join(functionsDir, 'migrations'), join(dir, 'migrations'), { recursive: true });
  const all = files(dir).filter(deployed);
  const size = (paths: string[]) => paths.reduce((sum, path) => sum + statSync(path).size, 0);
  return {
    dir,
    native,
    bundleBytes: statSync(join(dir, 'index.mjs')).size,
    unzippedBytes: size(all),
    zippedBytes: zippedBytes(dir, all),
    nativeZippedBytes: zippedBytes(
      dir,
      all.filter((path) => path.includes(`${dir}/node_modules/`)),
    ),
  };
}

/** Median milliseconds of `import(file)` in fresh Node processes. */
function importMs(file: string, env: Record<string, string>): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t)); process.exit(0);`;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
    });
    if (run.status !== 0) throw new Error(`importing ${file} failed: ${run.stderr}`);
    times.push(Number(run.stdout));
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}

const synthesized = await loadTemplate();
const model = buildIamModel(synthesized, {
  accountId: '000000000000',
  region: 'us-east-1',
  stackName: twinStackName,
  environment: {},
});
mkdirSync(outDir, { recursive: true });
const floorFile = join(outDir, 'floor.mjs');
writeFileSync(floorFile, 'export {};\n');
const lambdaEnv = { AWS_REGION: 'us-east-1', AWS_LAMBDA_FUNCTION_NAME: 'bench', POWERTOOLS_METRICS_DISABLED: 'true' };
const floor = importMs(floorFile, lambdaEnv);

const kb = (bytes: number) => (bytes / 1024).toFixed(1);
const msText = (value: number) => value.toFixed(1);
console.log(`Cold start per function (${runs} runs each, median; floor: an empty ESM module)`);
console.log(
  `  ${'function'.padEnd(14)}${'bundle KB'.padStart(10)}${'unzipped KB'.padStart(13)}${'zipped KB'.padStart(11)}${'native'.padStart(8)}${'import ms'.padStart(11)}${'- floor'.padStart(9)}  native packages`,
);
console.log(`  ${'(floor)'.padEnd(14)}${''.padStart(42)}${msText(floor).padStart(11)}`);
const misses: string[] = [];
for (const name of names) {
  const result = await bundle(name);
  const env = { ...lambdaEnv, ...(model.roles.get(name)?.environment ?? {}) };
  const imported = importMs(join(result.dir, 'index.mjs'), env);
  console.log(
    `  ${name.padEnd(14)}${kb(result.bundleBytes).padStart(10)}${kb(result.unzippedBytes).padStart(13)}${kb(result.zippedBytes).padStart(11)}${kb(result.nativeZippedBytes).padStart(8)}${msText(imported).padStart(11)}${msText(imported - floor).padStart(9)}  ${result.native.join(', ') || '-'}`,
  );
  if (result.zippedBytes / 1024 >= goals.zippedKb) {
    // A native module's share counts against the goal only as far as the JavaScript alone would miss it too.
    const javascriptKb = (result.zippedBytes - result.nativeZippedBytes) / 1024;
    const native = result.native.length
      ? `; ${kb(result.nativeZippedBytes)} KB of it native (${result.native.join(', ')}), JavaScript ${javascriptKb.toFixed(1)} KB`
      : '';
    misses.push(`${name}: ${kb(result.zippedBytes)} KB zipped${native}`);
  }
  if (goals.fastFunctions.includes(name) && imported >= goals.importMs) {
    misses.push(`${name}: import ${msText(imported).trim()} ms`);
  }
}
console.log(
  `Goals: every bundle < ${goals.zippedKb} KB zipped (unless a native module forces more); import < ${goals.importMs} ms for ${goals.fastFunctions.join(', ')}`,
);
console.log(misses.length === 0 ? '  all met' : misses.map((miss) => `  missed: ${miss}`).join('\n'));
