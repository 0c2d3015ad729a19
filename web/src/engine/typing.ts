/**
 * Typing notices: ours sent at most every few seconds while typing (and a stop), theirs shown until a stop
 * or for a few seconds after the last start. WebSocket only: nobody needs to know one typed while offline.
 */
import type { Socket } from './socket.ts';
import { type EngineState, typingSignal } from './state.ts';

export const TYPING_TTL_MS = 6000;
export const TYPING_THROTTLE_MS = 3000;

export class Typing {
  readonly #timers = new Map<string, Map<string, ReturnType<typeof setTimeout>>>();
  readonly #sent = new Map<string, number>();

  constructor(
    private readonly deps: {
      readonly state: Pick<EngineState, 'typing'>;
      readonly userId: string;
      readonly socket: () => Socket | null;
    },
  ) {}

  /** This user types (or stopped) in a conversation. */
  set(conversationId: string, typing: boolean): void {
    const socket = this.deps.socket();
    if (!socket?.online) return;
    const last = this.#sent.get(conversationId) ?? 0;
    const now = Date.now();
    if (typing) {
      if (now - last < TYPING_THROTTLE_MS) return;
      this.#sent.set(conversationId, now);
    } else {
      if (last === 0) return;
      this.#sent.delete(conversationId);
    }
    void socket.request({ action: 'typing', conversationId, state: typing ? 'start' : 'stop' }).catch(() => undefined);
  }

  /** Someone else's notice. */
  receive(conversationId: string, userId: string, typing: boolean): void {
    if (userId === this.deps.userId) return;
    let timers = this.#timers.get(conversationId);
    if (!timers) {
      timers = new Map();
      this.#timers.set(conversationId, timers);
    }
    const existing = timers.get(userId);
    if (existing) clearTimeout(existing);
    timers.delete(userId);
    if (typing)
      timers.set(
        userId,
        setTimeout(() => this.receive(conversationId, userId, false), TYPING_TTL_MS),
      );
    typingSignal(this.deps.state, conversationId).value = [...timers.keys()];
  }

  close(): void {
    for (const timers of this.#timers.values()) for (const t of timers.values()) clearTimeout(t);
  }
}
