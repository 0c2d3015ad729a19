import { CfnResource, RemovalPolicy, type Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';

/**
 * Every function in the stack logs to a group with a retention. Ours and the BucketDeployment's name their
 * group; CDK's custom-resource providers (S3 auto-delete, the default security group restriction, the
 * triggers' provider) are plain `AWS::Lambda::Function` resources that would log to a group Lambda creates
 * without one. Each gets a group here, and its function is pointed at it. Call after the stack is built.
 */
export function giveEveryFunctionALogGroup(stack: Stack, retention: logs.RetentionDays): logs.LogGroup[] {
  const created: logs.LogGroup[] = [];
  for (const construct of stack.node.findAll()) {
    if (!(construct instanceof CfnResource) || construct.cfnResourceType !== 'AWS::Lambda::Function') continue;
    if (hasLoggingConfig(construct)) continue;
    const scope = construct.node.scope;
    if (!scope) continue;
    const group = new logs.LogGroup(scope, `${construct.node.id}Logs`, {
      retention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    construct.addPropertyOverride('LoggingConfig', { LogGroup: group.logGroupName });
    created.push(group);
  }
  return created;
}

function hasLoggingConfig(resource: CfnResource): boolean {
  if (resource instanceof lambda.CfnFunction) return resource.loggingConfig !== undefined;
  const props = (resource as unknown as { _cfnProperties?: Record<string, unknown> })._cfnProperties;
  return props?.LoggingConfig !== undefined;
}
