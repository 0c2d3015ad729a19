/**
 * The smaller stages alone: the directory's caches, typing notices, the call link's frame batches and ICE
 * cache, the coalesced runs, and the file sends' checks (before anything is encrypted or shown).
 */
import type { Envelope } from '@ciphertalk/shared/protocol';
import { describe, expect, it } from 'vitest';
import { batches, CallLink } from '../../src/engine/call-link.ts';
import { Coalesced } from '../../src/engine/coalesce.ts';
import { Directory } from '../../src/engine/directory.ts';
import { FileSends } from '../../src/engine/file-sends.ts';
import { memoryStore } from '../../src/engine/local-store.ts';
import type { Socket } from '../../src/engine/socket.ts';
import { createState } from '../../src/engine/state.ts';
import { Timeline } from '../../src/engine/timeline.ts';
import { MAX_ATTACHMENTS_PER_MESSAGE } from '../../src/engine/transfers.ts';
import { Typing } from '../../src/engine/typing.ts';
import { conversation, directoryOf, fakeApi } from './stages.ts';

const CONV = '00000000-0000-4000-8000-00000000c0c0';

describe('Directory', () => {
  it('caches device lists until told they changed, and reports every list it fetched', async () => {
    let calls = 0;
    const seen: string[] = [];
    const api = fakeApi({
      'GET /users/{userId}/devices': ({ path }) => {
        calls++;
        return { userId: String(path.userId), devices: [] };
      },
    });
    const directory = new Directory({
      api,
      userId: 'me',
      log: () => undefined,
      onChange: () => undefined,
      onDevices: async (userId) => {
        seen.push(userId);
      },
    });
    await directory.devicesOf('bob');
    await directory.devicesOf('bob');
    expect(calls).toBe(1);
    directory.forgetDevices(['bob']);
    await directory.devicesOf('bob');
    await directory.devicesOf('me', true);
    expect(calls).toBe(3);
    expect(seen).toEqual(['bob', 'bob', 'me']);
  });

  it('names people from the member lists, asks the server for strangers, and says "Someone" when it cannot', async () => {
    const api = fakeApi({
      'GET /users/{userId}': ({ path }) => {
        if (path.userId === 'gone') throw new Error('404');
        return { user: { id: String(path.userId), displayName: 'Carol' } } as never;
      },
    });
    const directory = directoryOf(api, 'me', [conversation(CONV, 'direct', ['me', 'bob'])]);
    await directory.ensureNames(['bob', 'carol', 'gone', null]);
    expect(['me', 'bob', 'carol', 'gone', null].map(directory.nameOf)).toEqual([
      'You',
      'Name of bob',
      'Carol',
      'Someone',
      'CipherTalk',
    ]);
    expect(api.calls.map((c) => c.key)).toEqual(['GET /users/{userId}', 'GET /users/{userId}']);
    expect(directory.peerOf(CONV)).toEqual({ userId: 'bob', displayName: 'Name of bob' });
  });
});

describe('Typing', () => {
  it('sends a start at most every few seconds and one stop; shows others, never oneself', async () => {
    const sent: unknown[] = [];
    const socket = { online: true, request: async (frame: unknown) => sent.push(frame) } as unknown as Socket;
    const state = createState();
    const typing = new Typing({ state, userId: 'me', socket: () => socket });
    typing.set(CONV, true);
    typing.set(CONV, true);
    typing.set(CONV, false);
    typing.set(CONV, false);
    expect(sent).toEqual([
      { action: 'typing', conversationId: CONV, state: 'start' },
      { action: 'typing', conversationId: CONV, state: 'stop' },
    ]);
    typing.receive(CONV, 'bob', true);
    typing.receive(CONV, 'me', true);
    expect(state.typing.get(CONV)?.value).toEqual(['bob']);
    typing.receive(CONV, 'bob', false);
    expect(state.typing.get(CONV)?.value).toEqual([]);
    typing.close();
  });
});

describe('CallLink', () => {
  it('splits envelopes into frames under the WebSocket limit', () => {
    const envelope = (n: number): Envelope => ({
      userId: 'u',
      deviceId: n,
      type: 'signal',
      ciphertext: 'x'.repeat(4000),
    });
    const frames = batches([1, 2, 3, 4, 5].map(envelope), 10_000);
    expect(frames.map((f) => f.map((e) => e.deviceId))).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('keeps ICE servers until a minute before their credentials expire', async () => {
    let calls = 0;
    const api = fakeApi({
      'GET /calls/ice-servers': () => {
        calls++;
        return {
          iceServers: [{ urls: ['turn:turn.example:3478'], username: 'u', credential: 'c' }],
          expiresAt: new Date(Date.now() + 30 * 60_000).toISOString(),
        };
      },
    });
    const link = new CallLink({
      api,
      socket: () => null,
      directory: directoryOf(api, 'me', []),
      userId: 'me',
      deviceId: 1,
      seal: async () => [],
      open: async () => new Uint8Array(),
      record: async () => undefined,
      log: () => undefined,
    });
    const port = link.port();
    expect(await port.iceServers()).toEqual([{ urls: ['turn:turn.example:3478'], username: 'u', credential: 'c' }]);
    await port.iceServers();
    expect(calls).toBe(1);
  });
});

describe('Coalesced', () => {
  it('shares a run in progress and runs once more for calls made during it', async () => {
    const runs = new Coalesced();
    let passes = 0;
    let release: () => void = () => undefined;
    const first = runs.run(
      async () => {
        passes++;
        if (passes === 1) await new Promise<void>((resolve) => (release = resolve));
        return true;
      },
      () => false,
    );
    const second = runs.run(
      async () => true,
      () => false,
    );
    const third = runs.run(
      async () => true,
      () => false,
    );
    release();
    await Promise.all([first, second, third]);
    expect(second).toBe(first);
    expect(third).toBe(first);
    expect(passes).toBe(2);
    expect(runs.running).toBeNull();
  });
});

describe('FileSends', () => {
  it('refuses too many files, or too large ones, before anything is shown or uploaded', () => {
    const store = memoryStore();
    const state = createState();
    const directory = directoryOf(fakeApi({}), 'me', [conversation(CONV, 'direct', ['me', 'bob'])]);
    const timeline = new Timeline({ store, state, userId: 'me', directory });
    const files = new FileSends({
      timeline,
      transport: {} as never,
      transfers: {} as never,
      deviceId: () => 1,
      queue: async () => undefined,
      closed: () => false,
      log: () => undefined,
    });
    const file = (size: number) => ({ name: 'a.bin', type: 'application/octet-stream', size }) as File;
    const many = Array.from({ length: MAX_ATTACHMENTS_PER_MESSAGE + 1 }, () => file(1));
    expect(() => files.send(CONV, '00000000-0000-4000-8000-000000000001', many, '')).toThrow(/At most/);
    expect(() => files.send(CONV, '00000000-0000-4000-8000-000000000001', [file(200 * 2 ** 20)], '')).toThrow(
      /larger than/,
    );
    expect(timeline.sorted(CONV)).toEqual([]);
  });
});
