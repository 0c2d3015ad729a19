import { randomBytes } from 'node:crypto';
import { type DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { type AuditEvent, AuditEventType, type AuditLog, type AuditPage } from '#ports/audit-log.ts';

/** Audit entries are kept for a little over a year. */
export const AUDIT_RETENTION_SECONDS = 400 * 24 * 3600;

/**
 * The audit log in DynamoDB: partition `user#<id>`, sort key `<ISO time>#<random>` (newest first with
 * ScanIndexForward false), `expiresAt` for TTL. The cursor is the last sort key read, base64url: it can
 * only move within the caller's own partition.
 */
export class DynamoDbAuditLog implements AuditLog {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async record(event: AuditEvent): Promise<void> {
    const item: Record<string, { S: string } | { N: string }> = {
      pk: { S: `user#${event.userId}` },
      sk: { S: `${event.at.toISOString()}#${randomBytes(4).toString('hex')}` },
      type: { S: event.type },
      at: { S: event.at.toISOString() },
      sourceIp: { S: event.sourceIp || '-' },
      userAgent: { S: (event.userAgent || '-').slice(0, 256) },
      expiresAt: { N: String(Math.floor(event.at.getTime() / 1000) + AUDIT_RETENTION_SECONDS) },
    };
    if (event.sessionId) item.sessionId = { S: event.sessionId };
    if (event.deviceId) item.deviceId = { N: String(event.deviceId) };
    if (event.details && Object.keys(event.details).length > 0) item.details = { S: JSON.stringify(event.details) };
    await this.client.send(new PutItemCommand({ TableName: this.table, Item: item }));
  }

  async list(userId: string, options: { limit: number; cursor?: string | undefined; now: Date }): Promise<AuditPage> {
    const pk = `user#${userId}`;
    const start = options.cursor ? Buffer.from(options.cursor, 'base64url').toString('utf8') : undefined;
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk',
        FilterExpression: 'expiresAt > :now',
        ExpressionAttributeValues: {
          ':pk': { S: pk },
          ':now': { N: String(Math.floor(options.now.getTime() / 1000)) },
        },
        ScanIndexForward: false,
        Limit: options.limit,
        ...(start ? { ExclusiveStartKey: { pk: { S: pk }, sk: { S: start } } } : {}),
      }),
    );
    const events = (result.Items ?? []).flatMap((item): AuditEvent[] => {
      const type = item.type?.S as AuditEventType | undefined;
      if (!type || !AuditEventType.includes(type)) return [];
      return [
        {
          userId,
          type,
          at: new Date(item.at?.S ?? 0),
          sourceIp: item.sourceIp?.S ?? '',
          userAgent: item.userAgent?.S ?? '',
          sessionId: item.sessionId?.S ?? null,
          deviceId: item.deviceId?.N ? Number(item.deviceId.N) : null,
          details: item.details?.S ? JSON.parse(item.details.S) : undefined,
        },
      ];
    });
    const last = result.LastEvaluatedKey?.sk?.S;
    return { events, nextCursor: last ? Buffer.from(last, 'utf8').toString('base64url') : null };
  }
}
