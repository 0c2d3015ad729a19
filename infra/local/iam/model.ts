import type { CfnResource, SynthesizedTemplate } from './template.ts';

/** An IAM policy document as the template carries it, intrinsics resolved. */
export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: readonly Record<string, unknown>[] | Record<string, unknown>;
}

export interface FunctionRole {
  readonly functionName: string;
  readonly roleArn: string;
  /** The principal a call made with the role's session has: `arn:aws:sts::…:assumed-role/<role>/<function>`. */
  readonly principalArn: string;
  readonly policies: readonly { readonly name: string; readonly policy: PolicyDocument }[];
  /** The function's environment variables in the template, resolved. */
  readonly environment: Readonly<Record<string, string>>;
}

export interface IamModel {
  readonly accountId: string;
  readonly region: string;
  readonly roles: ReadonlyMap<string, FunctionRole>;
  /** Bucket name → its bucket policy. */
  readonly bucketPolicies: ReadonlyMap<string, PolicyDocument>;
}

export interface LocalBindings {
  readonly accountId: string;
  readonly region: string;
  readonly stackName: string;
  /**
   * Environment variables whose template value is a plain `Ref` and whose local value the twin chose
   * (ATTACHMENTS_BUCKET, RATE_LIMIT_TABLE...): the referenced resource gets that physical name locally.
   */
  readonly environment: Readonly<Record<string, string | undefined>>;
  /** Physical ids chosen by the twin for resources of a type (`AWS::ApiGatewayV2::Api` → the local api id). */
  readonly physicalIdsByType?: Readonly<Record<string, string>>;
}

/**
 * Each function's role in the synthesized template, with its policies' CloudFormation intrinsics
 * (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split) resolved to the names and ARNs the local
 * stack's resources have: account `accountId`, the twin's region, the twin's bucket and table names.
 * AWS managed policies (ARNs under `arn:aws:iam::aws:policy/`) are not in the template and are left out:
 * the ones CDK attaches to Lambda roles grant CloudWatch Logs and VPC networking, which the twin does not emulate.
 */
export function buildIamModel(synthesized: SynthesizedTemplate, bindings: LocalBindings): IamModel {
  const resources = synthesized.template.Resources;
  const physical = new Map<string, string>();
  for (const [id, resource] of Object.entries(resources)) {
    const chosen = bindings.physicalIdsByType?.[resource.Type];
    if (chosen !== undefined) physical.set(id, chosen);
  }
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const variables = environmentOf(resource);
    for (const [name, local] of Object.entries(bindings.environment)) {
      const ref = refTarget(variables[name]) ?? namedBy(resources, variables[name]);
      if (ref && local !== undefined) physical.set(ref, local);
    }
  }
  const resolver = new Resolver(resources, physical, bindings);

  const roles = new Map<string, FunctionRole>();
  for (const [name, { functionId, roleId }] of Object.entries(synthesized.functions)) {
    const fn = resources[functionId];
    const role = resources[roleId];
    if (!fn || !role) continue;
    const functionName = String(resolver.ref(functionId));
    const roleName = String(resolver.ref(roleId));
    const policies: { name: string; policy: PolicyDocument }[] = [];
    const inline = (role.Properties?.Policies ?? []) as { PolicyName: unknown; PolicyDocument: unknown }[];
    for (const policy of inline) {
      policies.push({
        name: String(resolver.resolve(policy.PolicyName)),
        policy: resolver.resolve(policy.PolicyDocument) as PolicyDocument,
      });
    }
    const managedRefs = new Set(
      ((role.Properties?.ManagedPolicyArns ?? []) as unknown[])
        .map(refTarget)
        .filter((id): id is string => id !== null),
    );
    for (const [id, resource] of Object.entries(resources)) {
      const attached =
        (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') &&
        (((resource.Properties?.Roles ?? []) as unknown[]).some((r) => refTarget(r) === roleId) || managedRefs.has(id));
      if (attached) {
        policies.push({ name: id, policy: resolver.resolve(resource.Properties?.PolicyDocument) as PolicyDocument });
      }
    }
    const environment = Object.fromEntries(
      Object.entries(environmentOf(fn)).map(([key, value]) => [key, String(resolver.resolve(value))]),
    );
    roles.set(name, {
      functionName,
      roleArn: `arn:aws:iam::${bindings.accountId}:role/${roleName}`,
      principalArn: `arn:aws:sts::${bindings.accountId}:assumed-role/${roleName}/${functionName}`,
      policies,
      environment,
    });
  }

  const bucketPolicies = new Map<string, PolicyDocument>();
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::S3::BucketPolicy') continue;
    bucketPolicies.set(
      String(resolver.resolve(resource.Properties?.Bucket)),
      resolver.resolve(resource.Properties?.PolicyDocument) as PolicyDocument,
    );
  }
  return { accountId: bindings.accountId, region: bindings.region, roles, bucketPolicies };
}

function environmentOf(resource: CfnResource): Record<string, unknown> {
  return ((resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
    {}) as Record<string, unknown>;
}

/**
 * The resource whose fixed physical name (`BucketName`, `TableName`) is exactly this expression: a variable
 * set to the name the stack gives a resource (the attachments bucket's `ct-attachments-<env>-<account>-<region>`)
 * rather than to a `Ref` of it.
 */
function namedBy(resources: Readonly<Record<string, CfnResource>>, value: unknown): string | null {
  if (value === undefined) return null;
  const wanted = JSON.stringify(value);
  for (const [id, resource] of Object.entries(resources)) {
    const name = resource.Properties?.BucketName ?? resource.Properties?.TableName;
    if (name !== undefined && JSON.stringify(name) === wanted) return id;
  }
  return null;
}

function refTarget(value: unknown): string | null {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const ref = (value as Record<string, unknown>).Ref;
    if (typeof ref === 'string' && Object.keys(value).length === 1) return ref;
  }
  return null;
}

const noValue = Symbol('AWS::NoValue');

/** CloudFormation's intrinsic functions over one template, with the twin's physical names. */
class Resolver {
  constructor(
    private readonly resources: Readonly<Record<string, CfnResource>>,
    private readonly physical: Map<string, string>,
    private readonly bindings: LocalBindings,
  ) {}

  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v)).filter((v) => v !== noValue);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    const [key, argument] = entries[0] ?? [];
    if (entries.length === 1 && key !== undefined) {
      switch (key) {
        case 'Ref':
          return this.ref(String(argument));
        case 'Fn::GetAtt': {
          const [id, attribute] = Array.isArray(argument) ? argument : String(argument).split(/\.(.*)/);
          return this.getAtt(String(id), String(attribute));
        }
        case 'Fn::Join': {
          const [separator, parts] = argument as [string, unknown[]];
          return (this.resolve(parts) as unknown[]).map(String).join(separator);
        }
        case 'Fn::Sub': {
          const [text, variables] = Array.isArray(argument) ? argument : [argument, {}];
          const own = this.resolve(variables) as Record<string, unknown>;
          return String(text).replace(/\$\{([^}!][^}]*)\}/g, (_, name: string) => {
            if (Object.hasOwn(own, name)) return String(own[name]);
            const [id, attribute] = name.split(/\.(.*)/);
            return String(attribute ? this.getAtt(id ?? '', attribute) : this.ref(name));
          });
        }
        case 'Fn::Select': {
          const [index, list] = argument as [unknown, unknown];
          return (this.resolve(list) as unknown[])[Number(this.resolve(index))];
        }
        case 'Fn::Split': {
          const [separator, text] = argument as [string, unknown];
          return String(this.resolve(text)).split(separator);
        }
        case 'Fn::GetAZs':
          return [`${this.bindings.region}a`, `${this.bindings.region}b`];
        case 'Fn::ImportValue':
        case 'Fn::If':
          return `unresolved-${key.replace(/\W/g, '')}`.toLowerCase();
      }
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(v)]));
  }

  ref(id: string): unknown {
    const { accountId, region, stackName } = this.bindings;
    const pseudo: Record<string, unknown> = {
      'AWS::AccountId': accountId,
      'AWS::Region': region,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': stackName,
      'AWS::StackId': `arn:aws:cloudformation:${region}:${accountId}:stack/${stackName}/twin`,
      'AWS::NoValue': noValue,
    };
    if (Object.hasOwn(pseudo, id)) return pseudo[id];
    const known = this.physical.get(id);
    if (known !== undefined) return known;
    const resource = this.resources[id];
    const property = (name: string) => {
      const value = resource?.Properties?.[name];
      return value === undefined ? undefined : String(this.resolve(value));
    };
    switch (resource?.Type) {
      case 'AWS::S3::Bucket':
        return property('BucketName') ?? id.toLowerCase();
      case 'AWS::DynamoDB::Table':
        return property('TableName') ?? `${stackName}-${id}`;
      case 'AWS::RDS::DBCluster':
        return (property('DBClusterIdentifier') ?? id).toLowerCase();
      case 'AWS::SecretsManager::Secret':
        return `arn:aws:secretsmanager:${region}:${accountId}:secret:${property('Name') ?? `${stackName}-${id}`}-Twin00`;
      case 'AWS::SecretsManager::SecretTargetAttachment':
        return this.resolve(resource.Properties?.SecretId);
      case 'AWS::ApiGatewayV2::Stage':
      case 'AWS::ApiGateway::Stage':
        return property('StageName') ?? id;
      case 'AWS::IAM::Role':
        return property('RoleName') ?? `${stackName}-${id}`;
      case 'AWS::Lambda::Function':
        return property('FunctionName') ?? `${stackName}-${id}`;
      default:
        return id;
    }
  }

  getAtt(id: string, attribute: string): unknown {
    const { accountId, region } = this.bindings;
    const type = this.resources[id]?.Type;
    const name = String(this.ref(id));
    if (attribute === 'Arn') {
      switch (type) {
        case 'AWS::S3::Bucket':
          return `arn:aws:s3:::${name}`;
        case 'AWS::DynamoDB::Table':
          return `arn:aws:dynamodb:${region}:${accountId}:table/${name}`;
        case 'AWS::IAM::Role':
          return `arn:aws:iam::${accountId}:role/${name}`;
        case 'AWS::Lambda::Function':
          return `arn:aws:lambda:${region}:${accountId}:function:${name}`;
        case 'AWS::SecretsManager::Secret':
          return name;
      }
    }
    if (type === 'AWS::RDS::DBCluster' && attribute === 'DBClusterArn') {
      return `arn:aws:rds:${region}:${accountId}:cluster:${name}`;
    }
    if (type === 'AWS::DynamoDB::Table' && attribute === 'StreamArn') {
      return `arn:aws:dynamodb:${region}:${accountId}:table/${name}/stream/twin`;
    }
    if (type === 'AWS::ElastiCache::ServerlessCache' && attribute === 'Endpoint.Address') {
      return `${name}.serverless.${region}.cache.amazonaws.com`;
    }
    if (type === 'AWS::ElastiCache::ServerlessCache' && attribute === 'Endpoint.Port') return '6379';
    // Parseable in a URL, matched by no policy.
    return `unresolved-${id}-${attribute.replace(/\W/g, '-')}`.toLowerCase();
  }
}
