import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '#adapters/s3-client.ts';
import { config, required } from '#config';
import { dynamodb } from './dynamodb.ts';
import { once } from './once.ts';

/**
 * The health check's one call per AWS dependency (`data.grantHealthProbes`): HeadBucket on the attachments
 * bucket (s3:ListBucket) and DescribeTable on the rate-limit table, nothing that reads or writes data.
 */
const bucket = required(config.s3.attachmentsBucket, 'ATTACHMENTS_BUCKET');
const table = required(config.dynamodb.rateLimitTable, 'RATE_LIMIT_TABLE');
const s3 = once(() => createS3Client(config.region, config.s3.endpoint));

export const probeBucket = () => s3().send(new HeadBucketCommand({ Bucket: bucket }));
export const probeTable = () => dynamodb().send(new DescribeTableCommand({ TableName: table }));
