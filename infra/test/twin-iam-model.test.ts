import { describe, expect, it } from 'vitest';
import { createTwinIam } from '../local/iam/enforcement.ts';
import { buildIamModel } from '../local/iam/model.ts';
import type { SynthesizedTemplate } from '../local/iam/template.ts';

// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax, not a JS template.
const clusterArnSub = 'arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:cluster:${Cluster}';

/** A template shaped as CDK writes it: a function, its role, a policy with intrinsics, a bucket policy. */
const synthesized: SynthesizedTemplate = {
  functions: { probe: { functionId: 'FnProbe', roleId: 'FnProbeRole' } },
  template: {
    Resources: {
      FnProbe: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          Role: { 'Fn::GetAtt': ['FnProbeRole', 'Arn'] },
          Environment: { Variables: { TABLE: { Ref: 'Table' }, BUCKET: { Ref: 'Bucket' }, FIXED: 'x' } },
        },
      },
      FnProbeRole: { Type: 'AWS::IAM::Role', Properties: {} },
      FnProbePolicy: {
        Type: 'AWS::IAM::Policy',
        Properties: {
          Roles: [{ Ref: 'FnProbeRole' }],
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Action: 'dynamodb:PutItem', Resource: { 'Fn::GetAtt': ['Table', 'Arn'] } },
              {
                Effect: 'Allow',
                Action: 's3:GetObject',
                Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['Bucket', 'Arn'] }, '/attachments/*']] },
              },
              {
                Effect: 'Allow',
                Action: 'rds-data:ExecuteStatement',
                Resource: { 'Fn::Sub': clusterArnSub },
              },
            ],
          },
        },
      },
      Table: { Type: 'AWS::DynamoDB::Table', Properties: {} },
      Bucket: {
        Type: 'AWS::S3::Bucket',
        Properties: { BucketName: { 'Fn::Join': ['-', ['ct', { Ref: 'AWS::AccountId' }]] } },
      },
      BucketPolicy: {
        Type: 'AWS::S3::BucketPolicy',
        Properties: {
          Bucket: { Ref: 'Bucket' },
          PolicyDocument: {
            Statement: [
              {
                Effect: 'Deny',
                Principal: { AWS: '*' },
                Action: 's3:*',
                Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['Bucket', 'Arn'] }, '/attachments/secret*']] },
              },
            ],
          },
        },
      },
      Cluster: { Type: 'AWS::RDS::DBCluster', Properties: { DBClusterIdentifier: 'Ciphertalk-Local' } },
    },
  },
};

const model = buildIamModel(synthesized, {
  accountId: '000000000000',
  region: 'eu-west-1',
  stackName: 'Twin',
  environment: { TABLE: 'local-table' },
});
const iam = createTwinIam(model, ['probe', 'other']);
const probeKey = iam.credentialsOf('probe').accessKeyId;
const ask = (action: string, resource: string, accessKeyId = probeKey) =>
  iam.authorize({ accessKeyId, action, resource });

describe('the twin’s IAM model', () => {
  it('resolves Ref, Fn::GetAtt, Fn::Join and Fn::Sub to the local names, the env-bound ones included', () => {
    const role = model.roles.get('probe');
    expect(role?.environment).toEqual({ TABLE: 'local-table', BUCKET: 'ct-000000000000', FIXED: 'x' });
    expect(role?.principalArn).toBe('arn:aws:sts::000000000000:assumed-role/Twin-FnProbeRole/Twin-FnProbe');
    expect(role?.policies[0]?.policy.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'dynamodb:PutItem',
        Resource: 'arn:aws:dynamodb:eu-west-1:000000000000:table/local-table',
      },
      { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::ct-000000000000/attachments/*' },
      {
        Effect: 'Allow',
        Action: 'rds-data:ExecuteStatement',
        Resource: 'arn:aws:rds:eu-west-1:000000000000:cluster:ciphertalk-local',
      },
    ]);
    expect(model.bucketPolicies.get('ct-000000000000')).toBeDefined();
  });

  it('allows what the role grants and refuses the rest, the bucket policy’s explicit deny included', async () => {
    expect(await ask('dynamodb:PutItem', 'arn:aws:dynamodb:eu-west-1:000000000000:table/local-table')).toBeNull();
    expect(await ask('s3:GetObject', 'arn:aws:s3:::ct-000000000000/attachments/a')).toBeNull();
    expect(await ask('dynamodb:GetItem', 'arn:aws:dynamodb:eu-west-1:000000000000:table/local-table')).toMatchObject({
      message:
        'User: arn:aws:sts::000000000000:assumed-role/Twin-FnProbeRole/Twin-FnProbe is not authorized to perform: ' +
        'dynamodb:GetItem on resource: arn:aws:dynamodb:eu-west-1:000000000000:table/local-table ' +
        'because no identity-based policy allows the dynamodb:GetItem action',
    });
    expect(await ask('s3:GetObject', 'arn:aws:s3:::ct-000000000000/attachments/secret-1')).toMatchObject({
      message: expect.stringContaining('with an explicit deny'),
    });
  });

  it('gives each function its own key; a function without a role in the template may do nothing, other keys are not evaluated', async () => {
    const other = iam.credentialsOf('other').accessKeyId;
    expect(other).not.toBe(probeKey);
    expect(iam.secrets[other]).toBe(iam.credentialsOf('other').secretAccessKey);
    expect(await ask('s3:GetObject', 'arn:aws:s3:::ct-000000000000/attachments/a', other)).not.toBeNull();
    expect(await ask('s3:GetObject', 'arn:aws:s3:::ct-000000000000/attachments/a', 'AKIAOPERATOR')).toBeNull();
  });
});
