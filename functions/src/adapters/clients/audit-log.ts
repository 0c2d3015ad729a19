import { bestEffortAudit } from '#adapters/best-effort.ts';
import { DynamoDbAuditLog } from '#adapters/dynamodb-audit-log.ts';
import { config, required } from '#config';
import type { AuditLog } from '#ports/audit-log.ts';
import { dynamodb } from './dynamodb.ts';
import { once } from './once.ts';

/** The append-only audit log (`data.grantAuditLog`: PutItem and Query only). */
const table = required(config.dynamodb.auditTable, 'AUDIT_TABLE');

export const auditLog = once((): AuditLog => bestEffortAudit(new DynamoDbAuditLog(dynamodb(), table)));
