import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { type AccessRequest, type Authorize, signingKeyId } from '../iam/enforcement.ts';

export interface EmbeddedDynamoDb {
  readonly endpoint: string;
  close(): Promise<void>;
}

/**
 * dynalite: DynamoDB's API in memory. It has no TTL and no transactions; the
 * functions filter on the expiry attribute anyway (real TTL is lazy), and TTL
 * set-up is skipped here.
 *
 * With `iam`, dynalite sits behind a front that evaluates every call as the
 * function whose access key signed it (`dynamodb:<Operation>` on the table's
 * ARN, or its index's), and answers a denial as DynamoDB does:
 * `400 com.amazon.coral.service#AccessDeniedException`.
 */
export async function startDynalite(options: {
  port: number;
  host?: string;
  iam?: { readonly authorize: Authorize; readonly region: string; readonly accountId: string };
}): Promise<EmbeddedDynamoDb> {
  const host = options.host ?? '127.0.0.1';
  const emulator = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const emulatorPort = await listen(emulator, options.iam ? 0 : options.port, host);
  const servers: Server[] = [emulator];
  let port = emulatorPort;
  const { iam } = options;
  if (iam) {
    const front = createServer((req, res) => {
      serve(req, res).catch(() =>
        answer(res, 500, 'com.amazonaws.dynamodb.v20120810#InternalServerError', 'Internal error'),
      );
    });
    const serve = async (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      const accessKeyId = signingKeyId(req.headers.authorization);
      const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      if (accessKeyId) {
        const table = (name: unknown) => `arn:aws:dynamodb:${iam.region}:${iam.accountId}:table/${String(name)}`;
        for (const call of dynamoDbCalls(operation, parse(body), table)) {
          const denied = await iam.authorize({ accessKeyId, ...call });
          if (denied) return answer(res, 400, 'com.amazon.coral.service#AccessDeniedException', denied.message);
        }
      }
      const upstream = request(
        { host, port: emulatorPort, method: req.method, path: req.url, headers: req.headers },
        (reply) => {
          res.writeHead(reply.statusCode ?? 500, reply.headers);
          reply.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    };
    port = await listen(front, options.port, host);
    servers.unshift(front);
  }
  return {
    endpoint: `http://${host}:${port}`,
    close: async () => {
      for (const server of servers) {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections?.();
        });
      }
    },
  };
}

async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

function parse(body: Buffer): Record<string, unknown> {
  try {
    return JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
  } catch {
    return {};
  }
}

function answer(res: ServerResponse, status: number, type: string, message: string): void {
  const payload = JSON.stringify({ __type: type, Message: message });
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

const transactActions: Readonly<Record<string, string>> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
  Get: 'dynamodb:GetItem',
};

/** The (action, resource) pairs DynamoDB authorizes for one call: one per table (and index) it touches. */
export function dynamoDbCalls(
  operation: string,
  body: Record<string, unknown>,
  table: (name: unknown) => string,
): Omit<AccessRequest, 'accessKeyId'>[] {
  const action = `dynamodb:${operation}`;
  switch (operation) {
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return Object.keys((body.RequestItems as object | undefined) ?? {}).map((name) => ({
        action,
        resource: table(name),
      }));
    case 'TransactWriteItems':
    case 'TransactGetItems':
      return ((body.TransactItems as Record<string, { TableName?: string }>[] | undefined) ?? []).flatMap((item) =>
        Object.entries(item).map(([kind, spec]) => ({
          action: transactActions[kind] ?? action,
          resource: table(spec.TableName),
        })),
      );
    case 'ListTables':
      return [{ action, resource: table('*') }];
    default: {
      const base = table(body.TableName);
      return [{ action, resource: body.IndexName ? `${base}/index/${String(body.IndexName)}` : base }];
    }
  }
}
