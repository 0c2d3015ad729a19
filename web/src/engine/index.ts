/**
 * `createEngine(config)`: the UI's one entry point. This file and what it imports statically (http, state,
 * errors) are small and zod-free; the core (libsodium, the protocol schemas, IndexedDB state) is loaded with
 * a dynamic `import()` once a session exists, so it never delays first paint.
 */

import { computed } from '@preact/signals';
import { ApiClient } from './api-client.ts';
import type { Core } from './core.ts';
import { EngineError } from './errors.ts';
import { Api, type SessionAnswer } from './http.ts';
import { createState, resetState, timelineSignal, typingSignal } from './state.ts';
import type { Engine, EngineConfig, MessageRef } from './types.ts';

export { EngineError, isEngineError } from './errors.ts';
export { MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS_PER_MESSAGE, transferKey } from './transfers.ts';
export type * from './types.ts';

export function createEngine(config: EngineConfig): Engine {
  const state = createState();
  const log = config.log ?? (() => undefined);
  const fetchImpl = config.fetch ?? globalThis.fetch.bind(globalThis);
  const http = new Api(config.apiUrl.replace(/\/$/, ''), fetchImpl);
  const api = new ApiClient(http, {
    log,
    onRetrying: (waiting) => {
      state.retrying.value += waiting ? 1 : -1;
    },
  });
  let core: Core | null = null;
  let starting: Promise<Core> | null = null;

  let refreshTimer: ReturnType<typeof setTimeout> | null = null;

  http.onSession = (session: SessionAnswer) => {
    state.me.value = { ...session.user };
    // Refresh a minute before the access token expires, so requests and socket tickets never wait on a 401.
    if (refreshTimer) clearTimeout(refreshTimer);
    refreshTimer = setTimeout(
      () => {
        refreshTimer = null;
        if (state.status.value !== 'signed-out') void http.refresh().catch(() => undefined);
      },
      Math.max(10, session.expiresIn - 60) * 1000,
    );
  };
  http.onSignedOut = () => {
    if (state.status.value === 'ready') state.problem.value = 'Your session ended. Sign in again.';
    void stop({ wipe: false });
  };

  async function begin(session: SessionAnswer): Promise<void> {
    http.accept(session);
    state.problem.value = null;
    state.status.value = 'starting';
    starting = (async () => {
      const { startCore } = await import('./core.ts');
      return startCore({
        api,
        config,
        state,
        userId: session.user.id,
        log,
      });
    })();
    try {
      core = await starting;
      state.status.value = 'ready';
    } catch (error) {
      starting = null;
      state.problem.value = error instanceof Error ? error.message : String(error);
      log('engine.start_failed', { error: String(error) });
      // The session stays (another tab may be using it); this tab just does not run.
      http.accessToken = null;
      resetState(state);
      state.status.value = 'signed-out';
      throw error;
    }
  }

  async function stop(options: { wipe: boolean }): Promise<void> {
    const current = core ?? (await starting?.catch(() => null)) ?? null;
    core = null;
    starting = null;
    if (refreshTimer) clearTimeout(refreshTimer);
    refreshTimer = null;
    if (current) await (options.wipe ? current.retire() : current.close());
    http.accessToken = null;
    resetState(state);
    state.status.value = 'signed-out';
  }

  async function ready(): Promise<Core> {
    if (core) return core;
    if (starting) return starting;
    throw new EngineError('signed_out', 'Sign in first');
  }

  const engine: Engine = {
    me: state.me,
    status: state.status,
    // While a request waits to be tried again the app is not quite connected: "Connecting…", not an error.
    connection: computed(() =>
      state.retrying.value > 0 && state.connection.value === 'online' ? 'connecting' : state.connection.value,
    ),
    problem: state.problem,
    devices: state.devices,
    conversations: state.conversations,
    trust: state.trust,
    transfers: state.transfers,
    avatars: state.avatars,

    async resume() {
      if (state.status.value !== 'signed-out') return;
      const session = await http.refresh().catch(() => null);
      if (session) await begin(session);
    },
    async register(input) {
      await begin(await api.call('POST /auth/register', { body: input, auth: false }));
    },
    async login(input) {
      await begin(await api.call('POST /auth/login', { body: input, auth: false }));
    },
    async logout() {
      const current = core;
      core = null;
      // The device goes first (it needs the session), then the session.
      if (current) await current.retire();
      await api.call('POST /auth/logout').catch(() => undefined);
      await stop({ wipe: false });
      // Revoking the device ended the session, so the logout's 401 reads as "session ended": not news here.
      state.problem.value = null;
    },
    async logoutAll() {
      // Every session ends, this one too, so nothing can be asked of the server after it: revoking this
      // device would end this session first and make logout-all a 401. The server revokes the devices of the
      // sessions it ends, this one included.
      await api.call('POST /auth/logout-all');
      const current = core;
      core = null;
      if (current) await current.discard();
      await stop({ wipe: false });
      state.problem.value = null;
    },
    async requestPasswordReset(email) {
      await api.call('POST /auth/password-reset', { body: { email }, auth: false });
    },
    async confirmPasswordReset(token, newPassword) {
      await api.call('POST /auth/password-reset/confirm', { body: { token, newPassword }, auth: false });
    },
    async changePassword(currentPassword, newPassword) {
      await api.call('POST /me/password', { body: { currentPassword, newPassword } });
    },
    async updateDisplayName(displayName) {
      const answer = await api.call('PATCH /me', { body: { displayName } });
      state.me.value = { ...answer.user };
    },
    async close() {
      await stop({ wipe: false });
    },

    async refreshDevices() {
      await (await ready()).refreshDevices();
    },
    async revokeDevice(deviceId) {
      const c = await ready();
      if (deviceId === c.deviceId) {
        await engine.logout();
        return;
      }
      await api.call('DELETE /devices/{deviceId}', { path: { deviceId } });
      await c.refreshDevices();
    },

    async searchUsers(query) {
      const { users } = await api.call('GET /users', { query: { query } });
      const c = core;
      for (const u of users) c?.rememberName(u.id, u.displayName);
      return users;
    },

    async refreshConversations() {
      await (await ready()).refreshConversations();
    },
    async createDirect(userId) {
      const c = await ready();
      const { conversation } = await api.call('POST /conversations', { body: { kind: 'direct', userId } });
      await c.adoptConversation(conversation);
      return conversation.id;
    },
    async createGroup(name, memberIds) {
      const c = await ready();
      const { conversation } = await api.call('POST /conversations', {
        body: { kind: 'group', name, memberIds: [...memberIds] },
      });
      await c.adoptConversation(conversation);
      return conversation.id;
    },
    async rename(conversationId, name) {
      const c = await ready();
      const { conversation } = await api.call('PATCH /conversations/{conversationId}', {
        path: { conversationId },
        body: { name },
      });
      await c.adoptConversation(conversation);
      await c.catchUp();
    },
    async addMembers(conversationId, userIds) {
      const c = await ready();
      await api.call('POST /conversations/{conversationId}/members', {
        path: { conversationId },
        body: { userIds: [...userIds] },
      });
      await c.afterMembershipChange();
    },
    async removeMember(conversationId, userId) {
      const c = await ready();
      await api.call('DELETE /conversations/{conversationId}/members/{userId}', { path: { conversationId, userId } });
      await c.afterMembershipChange();
    },
    async changeRole(conversationId, userId, role) {
      const c = await ready();
      await api.call('PATCH /conversations/{conversationId}/members/{userId}', {
        path: { conversationId, userId },
        body: { role },
      });
      await c.afterMembershipChange();
    },
    async leave(conversationId) {
      const c = await ready();
      const me = state.me.value;
      if (!me) throw new EngineError('signed_out', 'Sign in first');
      await api.call('DELETE /conversations/{conversationId}/members/{userId}', {
        path: { conversationId, userId: me.id },
      });
      c.forgetConversation(conversationId);
    },

    timeline(conversationId) {
      const target = timelineSignal(state, conversationId);
      core?.timeline(conversationId);
      return target;
    },
    async loadOlder(conversationId) {
      await (await ready()).loadOlder(conversationId);
    },
    typingIn(conversationId) {
      return typingSignal(state, conversationId);
    },
    setTyping(conversationId, typing) {
      core?.setTyping(conversationId, typing);
    },
    async markRead(conversationId) {
      await (await ready()).markRead(conversationId);
    },
    async refresh() {
      await (await ready()).refresh();
    },

    async send(conversationId, text, options) {
      return (await ready()).send(conversationId, text, options?.replyTo);
    },
    async edit(message: MessageRef, text) {
      await (await ready()).edit(message, text);
    },
    async deleteForEveryone(message) {
      await (await ready()).deleteForEveryone(message);
    },
    async react(message, emoji) {
      await (await ready()).react(message, emoji);
    },
    async retry(message) {
      await (await ready()).retry(message);
    },

    async sendFiles(conversationId, files, text) {
      return (await ready()).sendFiles(conversationId, files, text);
    },
    async cancelUpload(message) {
      await (await ready()).cancelUpload(message);
    },
    async download(message, index) {
      return (await ready()).download(message, index);
    },
    async thumbnail(message, index) {
      return (await ready()).thumbnail(message, index);
    },
    cancelDownload(message, index) {
      core?.cancelDownload(message, index);
    },
    async setMyAvatar(file) {
      await (await ready()).setMyAvatar(file);
    },
    async setGroupAvatar(conversationId, file) {
      await (await ready()).setGroupAvatar(conversationId, file);
    },

    async safetyNumber(userId) {
      return (await ready()).safetyNumber(userId);
    },
    async compareScanned(userId, scanned) {
      return (await ready()).compareScanned(userId, scanned);
    },
    async markVerified(userId, verified = true) {
      await (await ready()).markVerified(userId, verified);
    },
    async acknowledgeIdentityChange(userId) {
      await (await ready()).acknowledgeIdentityChange(userId);
    },

    async search(query) {
      return (await ready()).search(query);
    },

    call: state.call,
    callStats: state.callStats,
    async startCall(conversationId, media) {
      await (await ready()).calls.start(conversationId, media);
    },
    async acceptCall(media) {
      await (await ready()).calls.accept(media);
    },
    async declineCall() {
      await core?.calls.decline();
    },
    async hangUp() {
      await core?.calls.hangUp();
    },
    setMuted(muted) {
      core?.calls.setMuted(muted);
    },
    async setCameraOff(off) {
      await core?.calls.setCameraOff(off);
    },
    async shareScreen(on) {
      await (await ready()).calls.shareScreen(on);
    },
  };
  return engine;
}
