/** The engine's signals, created up front (first-paint bundle) and filled by the core once it is loaded. */
import { type Signal, signal } from '@preact/signals';
import type {
  CallStatsView,
  CallView,
  ConnectionState,
  ConversationView,
  DeviceView,
  Me,
  SessionStatus,
  TimelineView,
  TransferView,
  TrustView,
} from './types.ts';

export interface EngineState {
  me: Signal<Me | null>;
  status: Signal<SessionStatus>;
  /** The WebSocket's state. */
  connection: Signal<ConnectionState>;
  /** Requests waiting to be tried again after `unavailable` / `rate_limited`: shown as connecting. */
  retrying: Signal<number>;
  problem: Signal<string | null>;
  devices: Signal<readonly DeviceView[]>;
  conversations: Signal<readonly ConversationView[]>;
  trust: Signal<Readonly<Record<string, TrustView>>>;
  timelines: Map<string, Signal<TimelineView>>;
  typing: Map<string, Signal<readonly string[]>>;
  call: Signal<CallView | null>;
  callStats: Signal<CallStatsView | null>;
  transfers: Signal<Readonly<Record<string, TransferView>>>;
  avatars: Signal<Readonly<Record<string, string>>>;
}

export const EMPTY_TIMELINE: TimelineView = { items: [], hasOlder: false, loadingOlder: false };

export function createState(): EngineState {
  return {
    me: signal(null),
    status: signal('signed-out'),
    connection: signal('offline'),
    retrying: signal(0),
    problem: signal(null),
    devices: signal([]),
    conversations: signal([]),
    trust: signal({}),
    timelines: new Map(),
    typing: new Map(),
    call: signal(null),
    callStats: signal(null),
    transfers: signal({}),
    avatars: signal({}),
  };
}

export function timelineSignal(state: EngineState, conversationId: string): Signal<TimelineView> {
  let s = state.timelines.get(conversationId);
  if (!s) {
    s = signal(EMPTY_TIMELINE);
    state.timelines.set(conversationId, s);
  }
  return s;
}

export function typingSignal(state: Pick<EngineState, 'typing'>, conversationId: string): Signal<readonly string[]> {
  let s = state.typing.get(conversationId);
  if (!s) {
    s = signal([]);
    state.typing.set(conversationId, s);
  }
  return s;
}

/** Clears everything a signed-in user saw (logout). */
export function resetState(state: EngineState): void {
  state.me.value = null;
  state.connection.value = 'offline';
  state.devices.value = [];
  state.conversations.value = [];
  state.trust.value = {};
  for (const s of state.timelines.values()) s.value = EMPTY_TIMELINE;
  for (const s of state.typing.values()) s.value = [];
  state.call.value = null;
  state.callStats.value = null;
  state.transfers.value = {};
  state.avatars.value = {};
}
