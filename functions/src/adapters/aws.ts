/**
 * Both SDK clients, for the local stack, tests and benchmarks. The functions import the one they use
 * (`./s3-client.ts`, `./dynamodb-client.ts`), so a function using DynamoDB does not load S3's SDK.
 */
export { createDynamoDbClient } from './dynamodb-client.ts';
export { createS3Client } from './s3-client.ts';
