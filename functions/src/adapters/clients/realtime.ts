import type { Realtime } from '#domain/realtime.ts';
import { connectionRegistry } from './connection-registry.ts';
import { connectionsApi } from './connections-api.ts';
import { once } from './once.ts';

/** Who is connected, and how to reach them: what fan-out and presence take. */
export const realtime = once((): Realtime => ({ registry: connectionRegistry(), connections: connectionsApi() }));
