import { failOpen } from '#adapters/best-effort.ts';
import { DynamoDbRateLimiter } from '#adapters/dynamodb-rate-limiter.ts';
import { config, required } from '#config';
import type { RateLimiter } from '#ports/rate-limiter.ts';
import { dynamodb } from './dynamodb.ts';
import { once } from './once.ts';

/** The rate-limit counters (`data.grantRateLimiter`: UpdateItem only). */
const table = required(config.dynamodb.rateLimitTable, 'RATE_LIMIT_TABLE');

export const rateLimiter = once((): RateLimiter => failOpen(new DynamoDbRateLimiter(dynamodb(), table)));
