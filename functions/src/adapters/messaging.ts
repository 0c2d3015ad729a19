import type { MessagingDeps } from '#domain/messages.ts';
import { db, objectStore, realtime } from './clients.ts';

/** The ports of the messaging path (messages, fan-out, notices, presence), from the container's clients. */
export const messagingDeps = (): MessagingDeps => ({ db: db(), store: objectStore(), realtime: realtime() });
