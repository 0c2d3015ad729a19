import { type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { RateLimit, RateLimiter, RateLimitVerdict } from '#ports/rate-limiter.ts';

/**
 * Fixed-window counters in DynamoDB: one item per rule, key and window (`pk`), incremented atomically
 * with `ADD` in one round trip and expiring (`expiresAt`) when the window is over. A fixed window lets a
 * client burst up to twice the limit across a boundary; the limits below are set with that in mind.
 */
export class DynamoDbRateLimiter implements RateLimiter {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async hit(rule: string, key: string, limit: RateLimit, now: Date): Promise<RateLimitVerdict> {
    const nowSeconds = Math.floor(now.getTime() / 1000);
    const window = Math.floor(nowSeconds / limit.windowSeconds);
    const windowEnd = (window + 1) * limit.windowSeconds;
    const result = await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: { pk: { S: `${rule}#${key}#${window}` } },
        UpdateExpression: 'ADD hits :one SET expiresAt = if_not_exists(expiresAt, :expires)',
        ExpressionAttributeValues: { ':one': { N: '1' }, ':expires': { N: String(windowEnd + 60) } },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const hits = Number(result.Attributes?.hits?.N ?? '1');
    return { allowed: hits <= limit.max, retryAfterSeconds: Math.max(1, windowEnd - nowSeconds) };
  }
}
