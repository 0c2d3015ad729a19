/**
 * The DynamoDB tables' key schemas: the CDK stack creates them from this, and
 * the local stack creates them in dynalite/LocalStack. Items expire through the
 * `expiresAt` attribute (epoch seconds); DynamoDB's TTL is lazy (and dynalite
 * has none), so every read filters on it too.
 */
export interface TableSpec {
  readonly partitionKey: string;
  readonly sortKey?: string;
  readonly ttlAttribute?: string;
}

export const tables = {
  rateLimits: { partitionKey: 'pk', ttlAttribute: 'expiresAt' },
  audit: { partitionKey: 'pk', sortKey: 'sk', ttlAttribute: 'expiresAt' },
} as const satisfies Record<string, TableSpec>;
