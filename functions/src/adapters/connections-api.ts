import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import type { ConnectionsApi } from '#ports/connections-api.ts';

const encoder = new TextEncoder();

/** The @connections API through the real SDK client: API Gateway in AWS, the local twin on a laptop. */
export class ManagementApiConnections implements ConnectionsApi {
  readonly #client: ApiGatewayManagementApiClient;

  constructor(endpoint: string, region: string) {
    this.#client = new ApiGatewayManagementApiClient({ endpoint, region });
  }

  async post(connectionId: string, data: unknown): Promise<'sent' | 'gone'> {
    return goneAware(async () => {
      const body = typeof data === 'string' ? data : JSON.stringify(data);
      await this.#client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: encoder.encode(body) }));
      return 'sent' as const;
    });
  }

  async disconnect(connectionId: string): Promise<'closed' | 'gone'> {
    return goneAware(async () => {
      await this.#client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
      return 'closed' as const;
    });
  }
}

async function goneAware<T>(call: () => Promise<T>): Promise<T | 'gone'> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof GoneException || (error as { name?: unknown }).name === 'GoneException') return 'gone';
    throw error;
  }
}
