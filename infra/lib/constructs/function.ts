import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { functionsDir, handlerEntry, nativePackages, repoRoot, scanImports } from '../function-access.ts';

export interface CipherTalkFunctionProps {
  /** The handler file `functions/src/handlers/<name>.ts`. */
  readonly name: string;
  readonly description: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention: logs.RetentionDays;
  /** Place the function in the VPC (it reaches Redis). */
  readonly vpc?: { readonly vpc: ec2.IVpc; readonly securityGroups: ec2.ISecurityGroup[] };
  /** Copy functions/migrations and functions/definitions into the bundle, as `./migrations`, `./definitions`. */
  readonly withMigrations?: boolean;
}

/** ESM output has no `require`; CommonJS dependencies (ioredis, pg...) need one for Node built-ins. */
const esmRequireBanner =
  "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

/**
 * How every function is bundled (esbuild, through NodejsFunction); `npm run bench:cold` bundles with the same.
 * No source maps: a map is larger than its bundle (it was 58% of each zip), `--enable-source-maps` costs every
 * cold start and every `error.stack` read, and the code is not mangled instead, so stack traces in the logs
 * still name the functions they pass through (whitespace and syntax minified only: +13% gzipped).
 */
export const functionBundling = {
  format: 'esm',
  target: 'node24',
  mainFields: ['module', 'main'],
  banner: esmRequireBanner,
  minifyWhitespace: true,
  minifySyntax: true,
  sourceMap: false,
  /** The Lambda Node.js runtime provides the AWS SDK v3. */
  externalModules: ['@aws-sdk/*'],
} as const;

/**
 * Every CipherTalk Lambda: Node.js 24 on arm64, ESM bundled by the locally
 * installed esbuild with the runtime's `@aws-sdk/*` left external, no source
 * maps (see `functionBundling`), X-Ray active tracing and its own log group with a retention.
 * Packages with native code (argon2) are copied in with their prebuilt
 * linux-arm64 binaries instead of being bundled.
 */
export class CipherTalkFunction extends NodejsFunction {
  /** The handler file's name (`functions/src/handlers/<handlerName>.ts`): how the local twin finds the role. */
  readonly handlerName: string;

  constructor(scope: Construct, id: string, props: CipherTalkFunctionProps) {
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const native = [...scanImports(props.name).packages].flatMap((pkg) => nativePackages[pkg] ?? []);
    const copies = [
      ...native.map((pkg) => `mkdir -p "$(dirname "{out}/node_modules/${pkg}")"`),
      ...native.map((pkg) => `cp -R "${repoRoot}node_modules/${pkg}" "{out}/node_modules/${pkg}"`),
      // Prebuilt binaries of other platforms are dead weight in an arm64 Lambda.
      ...native.map(
        (pkg) =>
          `if [ -d "{out}/node_modules/${pkg}/prebuilds" ]; then find "{out}/node_modules/${pkg}/prebuilds" -mindepth 1 -maxdepth 1 ! -name linux-arm64 -exec rm -rf {} +; fi`,
      ),
      ...(props.withMigrations
        ? [
            `cp -R "${functionsDir}/migrations" "{out}/migrations"`,
            `cp -R "${functionsDir}/definitions" "{out}/definitions"`,
          ]
        : []),
    ];

    super(scope, id, {
      entry: handlerEntry(props.name),
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memoryMb,
      timeout: Duration.seconds(props.timeoutSeconds),
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      projectRoot: repoRoot,
      depsLockFilePath: `${repoRoot}package-lock.json`,
      environment: {
        POWERTOOLS_SERVICE_NAME: 'ciphertalk',
        ...props.environment,
      },
      ...(props.vpc
        ? {
            vpc: props.vpc.vpc,
            vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
            securityGroups: props.vpc.securityGroups,
          }
        : {}),
      bundling: {
        format: OutputFormat.ESM,
        target: functionBundling.target,
        mainFields: [...functionBundling.mainFields],
        banner: functionBundling.banner,
        minify: false,
        esbuildArgs: {
          '--minify-whitespace': functionBundling.minifyWhitespace,
          '--minify-syntax': functionBundling.minifySyntax,
        },
        sourceMap: functionBundling.sourceMap,
        externalModules: [...functionBundling.externalModules, ...native],
        forceDockerBundling: false,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir: string, outputDir: string) => copies.map((c) => c.replaceAll('{out}', outputDir)),
        },
      },
    });
    this.handlerName = props.name;
  }
}
