import {
  CreateTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { type TableSpec, tables } from '@ciphertalk/functions/adapters/dynamodb-tables.ts';

/** Creates what the CDK stack creates in AWS: the attachments bucket and the DynamoDB tables. Idempotent. */
export async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw error;
  }
}

export async function ensureTables(
  dynamodb: DynamoDBClient,
  names: { rateLimits: string; audit: string },
): Promise<void> {
  await Promise.all(
    (Object.keys(names) as (keyof typeof names)[]).map((key) => ensureTable(dynamodb, names[key], tables[key])),
  );
}

async function ensureTable(dynamodb: DynamoDBClient, name: string, spec: TableSpec): Promise<void> {
  const keys = [spec.partitionKey, ...(spec.sortKey ? [spec.sortKey] : [])];
  try {
    await dynamodb.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: keys.map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
        KeySchema: keys.map((AttributeName, i) => ({ AttributeName, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    return;
  }
  if (!spec.ttlAttribute) return;
  try {
    await dynamodb.send(
      new UpdateTimeToLiveCommand({
        TableName: name,
        TimeToLiveSpecification: { AttributeName: spec.ttlAttribute, Enabled: true },
      }),
    );
  } catch {
    // dynalite has no UpdateTimeToLive; reads filter on the expiry attribute anyway.
  }
}
