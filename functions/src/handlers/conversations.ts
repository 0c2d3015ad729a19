import type {
  AckResponse,
  ConversationListResponse,
  ConversationResponse,
  PresenceResponse,
  ReadMarkerResponse,
  SendMessageResponse,
  SyncResponse,
  TimelineResponse,
} from '@ciphertalk/shared/protocol';
import { db } from '#adapters/clients/db.ts';
import { messagingDeps } from '#adapters/clients/messaging.ts';
import { restLimits } from '#adapters/clients/rate-limiter.ts';
import { realtimeLimits } from '#adapters/clients/realtime-limiter.ts';
import {
  addMembers,
  type ConversationDeps,
  changeRole,
  createConversation,
  getConversation,
  listConversations,
  markRead,
  removeMember,
  updateConversation,
} from '#domain/conversations.ts';
import { publishDelivered, publishEvents } from '#domain/fanout.ts';
import { acknowledge, deviceOf, readInbox, readTimeline, sendingDevice, sendMessage } from '#domain/messages.ts';
import { conversationPresence } from '#domain/presence.ts';
import { deviceKey, enforce } from '#domain/rate-limits.ts';
import { reportFanout } from '#lib/fanout-report.ts';
import { json, route } from '#lib/http.ts';
import { logger } from '#lib/observability.ts';
import { principalOf } from '#lib/principal.ts';
import { routes } from '#lib/router.ts';

/** Live delivery is best effort: the change is committed, and a device that misses it gets it from /sync. */
const deps = (): ConversationDeps => ({
  db: db(),
  limits: restLimits(),
  publish: (events) =>
    publishEvents(messagingDeps(), events).then(
      () => undefined,
      (error: unknown) => logger.warn('could not publish system events', { error: String(error) }),
    ),
});

/**
 * `/conversations*` and `/sync*`: direct and group conversations, their members and roles, messages (stored,
 * then delivered live), the timeline, read markers, presence, and each device's inbox, behind the JWT
 * authorizer.
 */
export const handler = routes({
  'POST /conversations': route('POST /conversations', async (request) => {
    const { conversation, created } = await createConversation(deps(), principalOf(request.event), request.body);
    return json(created ? 201 : 200, { conversation } satisfies ConversationResponse);
  }),

  'GET /conversations': route('GET /conversations', async (request) => {
    const conversations = await listConversations(deps(), principalOf(request.event));
    return json(200, { conversations } satisfies ConversationListResponse);
  }),

  'GET /conversations/{conversationId}': route('GET /conversations/{conversationId}', async (request) => {
    const conversation = await getConversation(deps(), principalOf(request.event), request.path.conversationId);
    return json(200, { conversation } satisfies ConversationResponse);
  }),

  'PATCH /conversations/{conversationId}': route('PATCH /conversations/{conversationId}', async (request) => {
    const principal = principalOf(request.event);
    const conversation = await updateConversation(deps(), principal, request.path.conversationId, request.body);
    return json(200, { conversation } satisfies ConversationResponse);
  }),

  'POST /conversations/{conversationId}/members': route(
    'POST /conversations/{conversationId}/members',
    async (request) => {
      const principal = principalOf(request.event);
      const conversation = await addMembers(deps(), principal, request.path.conversationId, request.body);
      return json(200, { conversation } satisfies ConversationResponse);
    },
  ),

  'DELETE /conversations/{conversationId}/members/{userId}': route(
    'DELETE /conversations/{conversationId}/members/{userId}',
    async (request) => {
      const { conversationId, userId } = request.path;
      await removeMember(deps(), principalOf(request.event), conversationId, userId);
      return json(204, undefined);
    },
  ),

  'PATCH /conversations/{conversationId}/members/{userId}': route(
    'PATCH /conversations/{conversationId}/members/{userId}',
    async (request) => {
      const { conversationId, userId } = request.path;
      const principal = principalOf(request.event);
      const conversation = await changeRole(deps(), principal, conversationId, userId, request.body.role);
      return json(200, { conversation } satisfies ConversationResponse);
    },
  ),

  'GET /conversations/{conversationId}/messages': route(
    'GET /conversations/{conversationId}/messages',
    async (request) => {
      const principal = principalOf(request.event);
      const timeline = await readTimeline(messagingDeps(), principal, request.path.conversationId, request.query);
      return json(200, timeline satisfies TimelineResponse);
    },
  ),

  'POST /conversations/{conversationId}/read': route('POST /conversations/{conversationId}/read', async (request) => {
    const principal = principalOf(request.event);
    const marker = await markRead(deps(), principal, request.path.conversationId, request.body.seq);
    return json(200, marker satisfies ReadMarkerResponse);
  }),

  'POST /conversations/{conversationId}/messages': route(
    'POST /conversations/{conversationId}/messages',
    async (request) => {
      const { conversationId } = request.path;
      const deps = messagingDeps();
      const sender = await sendingDevice(deps, principalOf(request.event), conversationId);
      await enforce(realtimeLimits(), 'messagesPerDevice', deviceKey(sender));
      const stored = await sendMessage({ ...deps, report: reportFanout }, sender, conversationId, request.body);
      const body: SendMessageResponse = { seq: stored.seq, createdAt: stored.createdAt };
      return json(stored.created ? 201 : 200, body);
    },
  ),

  'GET /conversations/{conversationId}/presence': route(
    'GET /conversations/{conversationId}/presence',
    async (request) => {
      const { userId } = principalOf(request.event);
      const presence = await conversationPresence(messagingDeps(), userId, request.path.conversationId);
      return json(200, { presence } satisfies PresenceResponse);
    },
  ),

  'GET /sync': route('GET /sync', async (request) => {
    const inbox = await readInbox(messagingDeps(), deviceOf(principalOf(request.event)), request.query);
    return json(200, inbox satisfies SyncResponse);
  }),

  'POST /sync/ack': route('POST /sync/ack', async (request) => {
    const device = deviceOf(principalOf(request.event));
    const deps = messagingDeps();
    const acknowledged = await acknowledge(deps, device, request.body.deliveries);
    await publishDelivered(deps, device, acknowledged, new Date()).catch((error: unknown) =>
      logger.warn('could not publish delivery receipts', { error: String(error) }),
    );
    return json(200, { acknowledged: acknowledged.length } satisfies AckResponse);
  }),
});
