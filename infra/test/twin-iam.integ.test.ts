import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { DescribeTableCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ExecuteStatementCommand, RDSDataClient } from '@aws-sdk/client-rds-data';
import { GetObjectCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { createDynamoDbClient, createS3Client } from '@ciphertalk/functions/adapters/aws.ts';
import { freshSchema } from '@ciphertalk/functions/test/support/services.ts';
import type { FunctionName } from '@ciphertalk/shared/routes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LambdaHandler, resolveFunctionsPackage } from '../local/gateway/lambda.ts';
import { type LocalStack, startLocalStack } from '../local/stack.ts';
import { fetchJson } from './support/fixtures.ts';
import { frames, openSocket } from './support/stack.ts';

/**
 * The twin enforces the deployed IAM: probe handlers stand in for real functions (keeping their roles from
 * the synthesized template) and make AWS calls with the real SDK; each call is allowed or refused as AWS
 * would, with AWS's error. Without enforcement every call below would succeed.
 */
type Outcome = { ok: true } | { ok: false; name: string; status: number | undefined; message: string };

async function attempt(call: () => Promise<unknown>): Promise<Outcome> {
  try {
    await call();
    return { ok: true };
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { ok: false, name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
}

const env = () => process.env as Record<string, string>;
const region = () => env().AWS_REGION ?? 'us-east-1';
const clients = () => ({
  dynamodb: createDynamoDbClient(region(), env().DYNAMODB_ENDPOINT),
  s3: createS3Client(region(), env().S3_ENDPOINT),
  rdsData: new RDSDataClient({ region: region(), endpoint: env().DATA_API_ENDPOINT }),
  connections: new ApiGatewayManagementApiClient({ region: region(), endpoint: env().WS_MANAGEMENT_ENDPOINT }),
});

/** Every probe makes the same calls; which pass depends only on the role of the function it stands in for. */
async function probe(connectionId = 'no-such-connection') {
  const { dynamodb, s3, rdsData, connections } = clients();
  const table = env().RATE_LIMIT_TABLE;
  return {
    describeTable: await attempt(() => dynamodb.send(new DescribeTableCommand({ TableName: table }))),
    getItem: await attempt(() => dynamodb.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'x' } } }))),
    headBucket: await attempt(() => s3.send(new HeadBucketCommand({ Bucket: env().ATTACHMENTS_BUCKET }))),
    getObject: await attempt(() =>
      s3.send(new GetObjectCommand({ Bucket: env().ATTACHMENTS_BUCKET, Key: 'attachments/nothing-here' })),
    ),
    executeStatement: await attempt(() =>
      rdsData.send(
        new ExecuteStatementCommand({
          resourceArn: env().DB_CLUSTER_ARN,
          secretArn: env().DB_SECRET_ARN,
          database: env().DB_NAME,
          sql: 'SELECT 1',
        }),
      ),
    ),
    postToConnection: await attempt(() =>
      connections.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'probe' })),
    ),
  };
}
type Probe = Awaited<ReturnType<typeof probe>>;

const restProbe: LambdaHandler = async () => ({ statusCode: 200, body: JSON.stringify(await probe()) });
/** A WebSocket probe answers through @connections, which its function (wsPing) may use. */
const wsProbe: LambdaHandler = async (event) => {
  const { connectionId } = (event as { requestContext: { connectionId: string } }).requestContext;
  const results = await probe('no-such-connection');
  await clients().connections.send(
    new PostToConnectionCommand({ ConnectionId: connectionId, Data: JSON.stringify(results) }),
  );
  return { statusCode: 200 };
};
const probes: Partial<Record<FunctionName, LambdaHandler>> = {
  health: restProbe,
  auth: restProbe,
  wsConnect: async () => ({ statusCode: 200 }),
  wsPing: wsProbe,
};

let stack: LocalStack;
let schema: Awaited<ReturnType<typeof freshSchema>>;
beforeAll(async () => {
  schema = await freshSchema();
  stack = await startLocalStack({
    dataDir: null,
    ports: { rest: 0, ws: 0, web: null },
    env: { DATABASE_URL: schema.url, DB_DRIVER: 'data-api' },
    resolve: async (name) => probes[name] ?? resolveFunctionsPackage(name),
  });
});
afterAll(async () => {
  await stack?.stop();
  await schema?.drop();
});

const restProbeOf = async (path: string, method = 'GET') => {
  const answer = await fetchJson(`${stack.restUrl}${path}`, { method, body: method === 'POST' ? '{}' : undefined });
  expect(answer.status).toBe(200);
  return answer.body as Probe;
};
const denied = (name: string, status: number, action: string, role: string) => ({
  ok: false,
  name,
  status,
  message: expect.stringMatching(
    new RegExp(
      `^User: arn:aws:sts::000000000000:assumed-role/[^/]*${role}[^/]*/\\S+ is not authorized to perform: ${action} on resource: arn:aws:`,
    ),
  ),
});

describe('the twin enforces each function’s role from the synthesized template', () => {
  it('health: its DescribeTable, HeadBucket and Data API calls pass; GetItem, GetObject and @connections are refused', async () => {
    const results = await restProbeOf('/health');
    expect(results.describeTable).toEqual({ ok: true });
    expect(results.headBucket).toEqual({ ok: true });
    expect(results.executeStatement).toEqual({ ok: true });
    expect(results.getItem).toEqual(denied('AccessDeniedException', 400, 'dynamodb:GetItem', 'Fnhealth'));
    expect(results.getObject).toMatchObject({ ok: false, name: 'AccessDenied', status: 403 });
    expect(results.postToConnection).toEqual(
      denied('AccessDeniedException', 403, 'execute-api:ManageConnections', 'Fnhealth'),
    );
  });

  it('auth: may post to connections (an unknown one is then 410), not describe the table or head the bucket', async () => {
    const results = await restProbeOf('/auth/login', 'POST');
    expect(results.postToConnection).toMatchObject({ ok: false, name: 'GoneException', status: 410 });
    expect(results.describeTable).toEqual(denied('AccessDeniedException', 400, 'dynamodb:DescribeTable', 'Fnauth'));
    expect(results.headBucket).toMatchObject({ ok: false, status: 403 });
    expect(results.executeStatement).toEqual({ ok: true });
  });

  it('wsPing: its Data API call is refused as the Data API refuses it; its @connections answer arrives', async () => {
    const socket = await openSocket(stack.wsUrl);
    const received = frames(socket);
    socket.send(JSON.stringify({ action: 'ping' }));
    const results = (await received.next()) as Probe;
    socket.close();
    expect(results.executeStatement).toEqual(
      denied('AccessDeniedException', 403, 'rds-data:ExecuteStatement', 'FnwsPing'),
    );
    expect(results.describeTable).toMatchObject({ ok: false, name: 'AccessDeniedException' });
  });

  it('calls outside an invocation (the twin’s and the tests’ own) are not evaluated', async () => {
    const results = await probe();
    expect(results.getItem).toEqual({ ok: true });
    expect(results.getObject).toMatchObject({ ok: false, name: 'NoSuchKey', status: 404 });
  });
});
