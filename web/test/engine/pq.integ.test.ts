import { randomBytes } from 'node:crypto';
import { stackOnFreshSchema } from '@ciphertalk/infra/test/support/stack-fixture.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { engineFor, eventually, messages, network, type Person, password, person, texts } from './support.ts';

/**
 * PQXDH through two engines and the real stack: a classical (pre-PQXDH) client still talks to a new one and
 * both say so, the old client's upgrade, and a directory that strips the PQ prekey from a post-quantum
 * device's bundle is refused instead of silently giving a classical session.
 */
const fixture = stackOnFreshSchema({ redisDb: 9 });
const people: Person[] = [];
/** `METHOD path status` of every request a rewritten person made. */
const traffic = new Map<Person, string[]>();

afterAll(async () => {
  for (const p of people) await p.engine.close();
});

type Rewrite = {
  request?: (path: string, body: Record<string, unknown>) => void;
  answer?: (path: string, body: Record<string, unknown>) => void;
  fail?: RegExp;
};

/** A person whose traffic is rewritten: an older client (its requests), or a lying directory (its answers). */
async function rewritten(label: string, rewrite: () => Rewrite): Promise<Person> {
  const net = network();
  const base = net.fetch;
  const seen: string[] = [];
  net.fetch = async (input, init) => {
    const { request, answer, fail } = rewrite();
    const url = new URL(String(input));
    if (fail?.test(url.pathname)) throw new TypeError('fetch failed');
    let sent = init;
    if (request && typeof init?.body === 'string') {
      const body = JSON.parse(init.body) as Record<string, unknown>;
      request(url.pathname, body);
      sent = { ...init, body: JSON.stringify(body) };
    }
    const response = await base(input, sent);
    seen.push(`${init?.method ?? 'GET'} ${url.pathname} ${response.status}`);
    if (!answer || !response.headers.get('content-type')?.includes('json')) return response;
    const body = (await response.json()) as Record<string, unknown>;
    answer(url.pathname, body);
    return new Response(JSON.stringify(body), { status: response.status, headers: response.headers });
  };
  const dbPrefix = `${label}-${randomBytes(4).toString('hex')}-`;
  const events: string[] = [];
  const engine = engineFor(fixture.stack, net, dbPrefix, events);
  const email = `${label}-${randomBytes(4).toString('hex')}@example.test`;
  const pw = password();
  await engine.register({ email, password: pw, displayName: label });
  const id = engine.me.value?.id ?? '';
  const p: Person = {
    engine,
    net,
    email,
    password: pw,
    id,
    dbPrefix,
    events,
    async reload() {
      await p.engine.close();
      p.engine = engineFor(fixture.stack, net, dbPrefix, events);
      await p.engine.resume();
      return p.engine;
    },
  };
  people.push(p);
  traffic.set(p, seen);
  return p;
}

/** What a client from before PQXDH sends and understands: no ML-KEM prekeys, no PQ fields. */
const classicalClient = (): Rewrite => ({
  request: (path, body) => {
    if (path === '/devices') {
      delete body.pqLastResortPreKey;
      delete body.pqPreKeys;
    }
  },
  answer: (_path, body) => stripPq(body),
  fail: /\/pq-(prekeys|last-resort-prekey)$/,
});

function stripPq(body: Record<string, unknown>): void {
  const bundles = [body.bundle, ...((body.bundles as unknown[] | undefined) ?? [])] as (
    | Record<string, unknown>
    | undefined
  )[];
  for (const bundle of bundles) if (bundle) bundle.pqPreKey = null;
  for (const device of (body.devices as Record<string, unknown>[] | undefined) ?? []) device.postQuantum = false;
}

describe('PQXDH beside classical clients', () => {
  it('a classical client and a new one talk, both say the session is X3DH, and the upgrade keeps it working', async () => {
    let upgraded = false;
    const old = await rewritten('Old', () => (upgraded ? {} : classicalClient()));
    const neu = await person(fixture.stack, 'New');
    people.push(neu);
    const conversationId = await neu.engine.createDirect(old.id);
    await neu.engine.send(conversationId, 'from the post-quantum client');
    await eventually(() => expect(texts(old.engine, conversationId)).toEqual(['from the post-quantum client']));
    await old.engine.send(conversationId, 'from the classical one');
    await eventually(() => expect(texts(neu.engine, conversationId)).toContain('from the classical one'));
    expect((await neu.engine.safetyNumber(old.id)).sessions).toEqual([{ deviceId: 1, kind: 'x3dh' }]);
    expect((await old.engine.safetyNumber(neu.id)).sessions).toEqual([{ deviceId: 1, kind: 'x3dh' }]);

    // The old client is updated: on start it publishes its first last-resort ML-KEM prekey and a batch.
    upgraded = true;
    await old.reload();
    expect(traffic.get(old)).toEqual(
      expect.arrayContaining(['PUT /devices/1/pq-last-resort-prekey 204', 'POST /devices/1/pq-prekeys 200']),
    );
    // The classical session goes on working both ways.
    await old.engine.send(conversationId, 'still classical, still fine');
    await eventually(() => expect(texts(neu.engine, conversationId)).toContain('still classical, still fine'));
    await neu.engine.send(conversationId, 'and back');
    await eventually(() => expect(texts(old.engine, conversationId)).toContain('and back'));
  });

  it('refuses a bundle stripped of its PQ prekey for a device the directory listed as post-quantum', async () => {
    const carol = await person(fixture.stack, 'Carol');
    people.push(carol);
    // Dave's directory lists Carol's device as post-quantum, then hands out her bundles without the ML-KEM key.
    const dave = await rewritten('Dave', () => ({
      answer: (path, body) => {
        if (path.includes('prekey-bundle')) stripPq(body);
      },
    }));
    const conversationId = await dave.engine.createDirect(carol.id);
    await dave.engine.send(conversationId, 'must not go out over classical X3DH');
    await eventually(() => expect(messages(dave.engine, conversationId)[0]?.state).toBe('failed'));
    expect(dave.events).toContain('message.send_failed');
    expect((await dave.engine.safetyNumber(carol.id)).sessions).toEqual([{ deviceId: 1, kind: 'none' }]);
    expect(texts(carol.engine, conversationId)).toEqual([]);
  });
});
