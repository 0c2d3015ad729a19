import type { z } from 'zod';
import {
  AttachmentDownloadResponse,
  AttachmentPath,
  CreateAttachmentRequest,
  CreateAttachmentResponse,
} from './attachments.ts';
import { AuditQuery, AuditResponse } from './audit.ts';
import {
  ChangePasswordRequest,
  LoginRequest,
  LogoutAllResponse,
  MeResponse,
  PasswordResetAccepted,
  PasswordResetConfirm,
  PasswordResetRequest,
  RegisterRequest,
  SessionListResponse,
  SessionPath,
  SessionResponse,
  UpdateMeRequest,
  UserResponse,
  WsTicketResponse,
} from './auth.ts';
import { IceServersResponse } from './calls.ts';
import {
  AckRequest,
  AckResponse,
  AddMembersRequest,
  ChangeRoleRequest,
  ConversationListResponse,
  ConversationMemberPath,
  ConversationPath,
  ConversationResponse,
  CreateConversationRequest,
  PresenceResponse,
  ReadMarkerRequest,
  ReadMarkerResponse,
  SendMessageRequest,
  SendMessageResponse,
  SyncQuery,
  SyncResponse,
  TimelineQuery,
  TimelineResponse,
  UpdateConversationRequest,
} from './conversations.ts';
import {
  DeviceListResponse,
  DevicePath,
  DeviceResponse,
  PqPreKeyCountResponse,
  PreKeyBundleResponse,
  PreKeyBundlesResponse,
  PreKeyCountResponse,
  PublicDeviceListResponse,
  RegisterDeviceRequest,
  RotateSignedPreKeyRequest,
  SetPqLastResortPreKeyRequest,
  UploadPqPreKeysRequest,
  UploadPreKeysRequest,
  UserDevicePath,
  UserPath,
} from './devices.ts';
import { HealthResponse } from './health.ts';
import { UserProfileResponse, UserSearchQuery, UserSearchResponse } from './users.ts';

/**
 * What each REST route takes and answers, keyed `METHOD /resource` like the route table: the schemas the
 * handlers validate with, and the ones their answers follow. `GET /openapi.json` is generated from this
 * and the route table; a test keeps the two covering each other.
 */
export interface RouteContract {
  readonly summary: string;
  readonly body?: z.ZodType;
  readonly query?: z.ZodType;
  readonly path?: z.ZodType;
  /** The success status and its body (null: no body). Error answers are the shared ErrorBody. */
  readonly success: readonly [status: number, body: z.ZodType | null];
  /** Error statuses the route answers besides 400 (validation) and, behind the authorizer, 401. */
  readonly errors?: readonly number[];
  /** Sets or clears the `ct_refresh` cookie. */
  readonly cookie?: 'sets' | 'reads' | 'clears';
}

export const restContract = {
  'GET /health': { summary: 'Checks every dependency (503 when one is down)', success: [200, HealthResponse] },
  'GET /openapi.json': { summary: 'This document', success: [200, null] },
  'POST /auth/register': {
    summary: 'Creates an account and logs it in',
    body: RegisterRequest,
    success: [201, SessionResponse],
    errors: [409, 429],
    cookie: 'sets',
  },
  'POST /auth/login': {
    summary: 'Logs in: the same 401 for an unknown email and a wrong password',
    body: LoginRequest,
    success: [200, SessionResponse],
    errors: [401, 429],
    cookie: 'sets',
  },
  'POST /auth/refresh': {
    summary: 'Rotates the refresh cookie; a reused one ends its session',
    success: [200, SessionResponse],
    errors: [401, 403, 429],
    cookie: 'reads',
  },
  'POST /auth/logout': { summary: 'Ends this session', success: [204, null], cookie: 'clears' },
  'POST /auth/logout-all': {
    summary: 'Ends every session of the user',
    success: [200, LogoutAllResponse],
    cookie: 'clears',
  },
  'POST /auth/password-reset': {
    summary: 'Mails a reset link to an existing account; always the same 202',
    body: PasswordResetRequest,
    success: [202, PasswordResetAccepted],
    errors: [429],
  },
  'POST /auth/password-reset/confirm': {
    summary: 'Sets a new password with the mailed token; ends every session',
    body: PasswordResetConfirm,
    success: [204, null],
    errors: [429],
    cookie: 'clears',
  },
  'POST /auth/ws-ticket': {
    summary: 'A single-use ticket for the WebSocket $connect (?ticket=)',
    success: [200, WsTicketResponse],
    errors: [403, 429],
  },
  'GET /me': { summary: 'The caller and their session', success: [200, MeResponse] },
  'PATCH /me': { summary: 'Changes the display name', body: UpdateMeRequest, success: [200, UserResponse] },
  'POST /me/password': {
    summary: 'Changes the password; ends every other session',
    body: ChangePasswordRequest,
    success: [200, LogoutAllResponse],
    errors: [429],
  },
  'GET /me/audit': {
    summary: "The caller's security events, newest first",
    query: AuditQuery,
    success: [200, AuditResponse],
  },
  'GET /me/sessions': { summary: "The caller's live sessions", success: [200, SessionListResponse] },
  'DELETE /me/sessions/{sessionId}': {
    summary: "Ends one of the caller's sessions",
    path: SessionPath,
    success: [204, null],
    errors: [404],
  },
  'POST /devices': {
    summary: "Registers the session's device with its keys",
    body: RegisterDeviceRequest,
    success: [201, DeviceResponse],
    errors: [409],
  },
  'GET /devices': { summary: "The caller's devices", success: [200, DeviceListResponse] },
  'DELETE /devices/{deviceId}': {
    summary: "Revokes one of the caller's devices and ends its sessions",
    path: DevicePath,
    success: [200, LogoutAllResponse],
    errors: [404],
  },
  'POST /devices/{deviceId}/prekeys': {
    summary: 'Uploads one-time prekeys (from that device only)',
    path: DevicePath,
    body: UploadPreKeysRequest,
    success: [200, PreKeyCountResponse],
    errors: [403, 404, 409],
  },
  'POST /devices/{deviceId}/pq-prekeys': {
    summary: 'Uploads one-time ML-KEM prekeys of PQXDH (from that device only)',
    path: DevicePath,
    body: UploadPqPreKeysRequest,
    success: [200, PqPreKeyCountResponse],
    errors: [403, 404, 409],
  },
  'PUT /devices/{deviceId}/pq-last-resort-prekey': {
    summary: 'Sets or replaces the last-resort ML-KEM prekey of PQXDH (from that device only)',
    path: DevicePath,
    body: SetPqLastResortPreKeyRequest,
    success: [204, null],
    errors: [403, 404],
  },
  'PUT /devices/{deviceId}/signed-prekey': {
    summary: 'Replaces the signed prekey (from that device only)',
    path: DevicePath,
    body: RotateSignedPreKeyRequest,
    success: [204, null],
    errors: [403, 404],
  },
  'GET /users': {
    summary: 'Searches the directory',
    query: UserSearchQuery,
    success: [200, UserSearchResponse],
    errors: [429],
  },
  'GET /users/{userId}': {
    summary: "A user's public profile (never the email)",
    path: UserPath,
    success: [200, UserProfileResponse],
    errors: [404],
  },
  'GET /users/{userId}/devices': {
    summary: "A user's live devices",
    path: UserPath,
    success: [200, PublicDeviceListResponse],
    errors: [404],
  },
  'GET /users/{userId}/prekey-bundles': {
    summary: 'Claims one prekey bundle of every live device of a user',
    path: UserPath,
    success: [200, PreKeyBundlesResponse],
    errors: [403, 404, 429],
  },
  'GET /users/{userId}/devices/{deviceId}/prekey-bundle': {
    summary: 'Claims one prekey bundle of one device',
    path: UserDevicePath,
    success: [200, PreKeyBundleResponse],
    errors: [403, 404, 429],
  },
  'POST /conversations': {
    summary: 'Creates a group, or the direct conversation with a user (200 with the existing one)',
    body: CreateConversationRequest,
    success: [201, ConversationResponse],
    errors: [429],
  },
  'GET /conversations': {
    summary: "The caller's conversations, most recently active first, with unread counts",
    success: [200, ConversationListResponse],
  },
  'GET /conversations/{conversationId}': {
    summary: 'One conversation of the caller (404 for a non-member, as for an unknown id)',
    path: ConversationPath,
    success: [200, ConversationResponse],
    errors: [404],
  },
  'PATCH /conversations/{conversationId}': {
    summary: 'Renames a group or changes its avatar (owner and admins)',
    path: ConversationPath,
    body: UpdateConversationRequest,
    success: [200, ConversationResponse],
    errors: [403, 404, 429],
  },
  'POST /conversations/{conversationId}/members': {
    summary: 'Adds members to a group (owner and admins)',
    path: ConversationPath,
    body: AddMembersRequest,
    success: [200, ConversationResponse],
    errors: [403, 404, 409, 429],
  },
  'DELETE /conversations/{conversationId}/members/{userId}': {
    summary: 'Removes a member (owner; admins: members only), or leaves when it is the caller',
    path: ConversationMemberPath,
    success: [204, null],
    errors: [403, 404, 429],
  },
  'PATCH /conversations/{conversationId}/members/{userId}': {
    summary: "Changes a member's role (owner only)",
    path: ConversationMemberPath,
    body: ChangeRoleRequest,
    success: [200, ConversationResponse],
    errors: [403, 404, 409, 429],
  },
  'GET /conversations/{conversationId}/messages': {
    summary: "The timeline after a seq, oldest first, with the caller device's undelivered ciphertext",
    path: ConversationPath,
    query: TimelineQuery,
    success: [200, TimelineResponse],
    errors: [404],
  },
  'POST /conversations/{conversationId}/messages': {
    summary: 'Stores and delivers an encrypted message, pairwise or sender-key (200 on a retry)',
    path: ConversationPath,
    body: SendMessageRequest,
    success: [201, SendMessageResponse],
    errors: [403, 404, 409, 429],
  },
  'POST /conversations/{conversationId}/read': {
    summary: "Moves the caller's read marker forward",
    path: ConversationPath,
    body: ReadMarkerRequest,
    success: [200, ReadMarkerResponse],
    errors: [404],
  },
  'GET /conversations/{conversationId}/presence': {
    summary: "The members' presence: online, offline and last seen (members only)",
    path: ConversationPath,
    success: [200, PresenceResponse],
    errors: [404],
  },
  'GET /sync': {
    summary: "What the caller's device has not acknowledged yet, oldest first, across conversations",
    query: SyncQuery,
    success: [200, SyncResponse],
    errors: [403],
  },
  'POST /attachments': {
    summary: 'An upload slot (presigned POST pinning key, exact size and type) for an encrypted file',
    body: CreateAttachmentRequest,
    success: [201, CreateAttachmentResponse],
    errors: [403, 404, 413, 429],
  },
  'GET /attachments/{attachmentId}': {
    summary: 'A short-lived presigned GET of the ciphertext: members of its conversation (and its uploader) only',
    path: AttachmentPath,
    success: [200, AttachmentDownloadResponse],
    errors: [404],
  },
  'GET /calls/ice-servers': {
    summary: 'STUN and TURN servers for WebRTC calls, with short-lived TURN credentials',
    success: [200, IceServersResponse],
  },
  'POST /sync/ack': {
    summary: "Acknowledges deliveries to the caller's device: they leave its inbox and the senders learn",
    body: AckRequest,
    success: [200, AckResponse],
    errors: [403],
  },
} as const satisfies Record<string, RouteContract>;
