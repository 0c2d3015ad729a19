import type { MessagingDeps } from '#domain/messages.ts';
import { db } from './db.ts';
import { objectStore } from './object-store.ts';
import { realtime } from './realtime.ts';

/** The ports of the messaging path (messages, fan-out, notices, presence), from the container's clients. */
export const messagingDeps = (): MessagingDeps => ({ db: db(), store: objectStore(), realtime: realtime() });
