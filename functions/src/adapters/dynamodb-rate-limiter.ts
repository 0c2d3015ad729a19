import { type DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { WindowCounters } from '#ports/rate-limiter.ts';

/**
 * Window counters in DynamoDB, for the sliding-window limiter of the REST routes: one item per rule, key
 * and window (`pk`), incremented atomically with `ADD` and expiring (`expiresAt`) once no window weighs it.
 */
export class DynamoDbWindowCounters implements WindowCounters {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async add(key: string, amount: number, ttlSeconds: number): Promise<number> {
    const expires = Math.floor(Date.now() / 1000) + ttlSeconds;
    const result = await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: { pk: { S: key } },
        UpdateExpression: 'ADD hits :n SET expiresAt = if_not_exists(expiresAt, :expires)',
        ExpressionAttributeValues: { ':n': { N: String(amount) }, ':expires': { N: String(expires) } },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(result.Attributes?.hits?.N ?? amount);
  }

  async read(key: string): Promise<number> {
    const result = await this.client.send(
      new GetItemCommand({ TableName: this.table, Key: { pk: { S: key } }, ProjectionExpression: 'hits, expiresAt' }),
    );
    const expiresAt = Number(result.Item?.expiresAt?.N ?? 0);
    // DynamoDB's TTL deletes lazily (and dynalite never): an expired item counts for nothing.
    if (expiresAt <= Date.now() / 1000) return 0;
    return Number(result.Item?.hits?.N ?? 0);
  }
}
