import { ManagementApiConnections } from '#adapters/connections-api.ts';
import { config, required } from '#config';
import type { ConnectionsApi } from '#ports/connections-api.ts';
import { once } from './once.ts';

/** The WebSocket stage's @connections API (`realtime.grantManageConnections`). */
const endpoint = required(config.wsManagementEndpoint, 'WS_MANAGEMENT_ENDPOINT');

export const connectionsApi = once((): ConnectionsApi => new ManagementApiConnections(endpoint, config.region));
