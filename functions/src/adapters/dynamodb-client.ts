import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** DynamoDB client for AWS or an emulator (dynalite, LocalStack). */
export function createDynamoDbClient(region: string, endpoint?: string): DynamoDBClient {
  return new DynamoDBClient({ region, ...(endpoint ? { endpoint } : {}) });
}
