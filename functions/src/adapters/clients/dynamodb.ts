import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoDbClient } from '#adapters/dynamodb-client.ts';
import { config } from '#config';
import { once } from './once.ts';

/** The container's DynamoDB client, shared by the table clients; it grants nothing by itself. */
export const dynamodb = once((): DynamoDBClient => createDynamoDbClient(config.region, config.dynamodb.endpoint));
