import {
  AddMembersRequest,
  ChangeRoleRequest,
  type ConversationListResponse,
  ConversationMemberPath,
  ConversationPath,
  type ConversationResponse,
  CreateConversationRequest,
  ReadMarkerRequest,
  type ReadMarkerResponse,
  SendMessageRequest,
  type SendMessageResponse,
  TimelineQuery,
  type TimelineResponse,
  UpdateConversationRequest,
} from '@ciphertalk/shared/protocol';
import { db } from '#adapters/clients.ts';
import {
  addMembers,
  type ConversationDeps,
  changeRole,
  createConversation,
  getConversation,
  listConversations,
  markRead,
  readTimeline,
  removeMember,
  sendMessage,
  updateConversation,
} from '#domain/conversations.ts';
import { httpHandler, json } from '#lib/http.ts';
import { principalOf } from '#lib/principal.ts';
import { routes } from '#lib/router.ts';

/** Conversations need the database only: the function gets no other grant. */
const deps = (): ConversationDeps => ({ db: db() });

/**
 * `/conversations*`: direct and group conversations, their members and roles, the timeline and the read
 * marker, behind the JWT authorizer.
 */
export const handler = routes({
  'POST /conversations': httpHandler({ body: CreateConversationRequest }, async (request) => {
    const { conversation, created } = await createConversation(deps(), principalOf(request.event), request.body);
    return json(created ? 201 : 200, { conversation } satisfies ConversationResponse);
  }),

  'GET /conversations': httpHandler({}, async (request) => {
    const conversations = await listConversations(deps(), principalOf(request.event));
    return json(200, { conversations } satisfies ConversationListResponse);
  }),

  'GET /conversations/{conversationId}': httpHandler({ path: ConversationPath }, async (request) => {
    const conversation = await getConversation(deps(), principalOf(request.event), request.path.conversationId);
    return json(200, { conversation } satisfies ConversationResponse);
  }),

  'PATCH /conversations/{conversationId}': httpHandler(
    { path: ConversationPath, body: UpdateConversationRequest },
    async (request) => {
      const principal = principalOf(request.event);
      const conversation = await updateConversation(deps(), principal, request.path.conversationId, request.body);
      return json(200, { conversation } satisfies ConversationResponse);
    },
  ),

  'POST /conversations/{conversationId}/members': httpHandler(
    { path: ConversationPath, body: AddMembersRequest },
    async (request) => {
      const principal = principalOf(request.event);
      const conversation = await addMembers(deps(), principal, request.path.conversationId, request.body);
      return json(200, { conversation } satisfies ConversationResponse);
    },
  ),

  'DELETE /conversations/{conversationId}/members/{userId}': httpHandler(
    { path: ConversationMemberPath },
    async (request) => {
      const { conversationId, userId } = request.path;
      await removeMember(deps(), principalOf(request.event), conversationId, userId);
      return json(204, undefined);
    },
  ),

  'PATCH /conversations/{conversationId}/members/{userId}': httpHandler(
    { path: ConversationMemberPath, body: ChangeRoleRequest },
    async (request) => {
      const { conversationId, userId } = request.path;
      const principal = principalOf(request.event);
      const conversation = await changeRole(deps(), principal, conversationId, userId, request.body.role);
      return json(200, { conversation } satisfies ConversationResponse);
    },
  ),

  'GET /conversations/{conversationId}/messages': httpHandler(
    { path: ConversationPath, query: TimelineQuery },
    async (request) => {
      const principal = principalOf(request.event);
      const timeline = await readTimeline(deps(), principal, request.path.conversationId, request.query);
      return json(200, timeline satisfies TimelineResponse);
    },
  ),

  'POST /conversations/{conversationId}/read': httpHandler(
    { path: ConversationPath, body: ReadMarkerRequest },
    async (request) => {
      const principal = principalOf(request.event);
      const marker = await markRead(deps(), principal, request.path.conversationId, request.body.seq);
      return json(200, marker satisfies ReadMarkerResponse);
    },
  ),

  'POST /conversations/{conversationId}/messages': httpHandler(
    { path: ConversationPath, body: SendMessageRequest },
    async (request) => {
      const principal = principalOf(request.event);
      const { created, ...stored } = await sendMessage(deps(), principal, request.path.conversationId, request.body);
      return json(created ? 201 : 200, stored satisfies SendMessageResponse);
    },
  ),
});
