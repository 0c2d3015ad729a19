import { resolveObjectURL } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { stackOnFreshSchema } from '@ciphertalk/infra/test/support/stack-fixture.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transferKey } from '../../src/engine/index.ts';
import { eventually, messages, type Person, person } from './support.ts';

/**
 * Attachments between engines in Node (no DOM: no thumbnails, fetch instead of XMLHttpRequest) through the local
 * twin: a group (Sender Keys, `attachmentIds` on the sender-key message), a download that equals the upload, a
 * cancelled upload that sends nothing, and a caption-less message.
 */
const fixture = stackOnFreshSchema({ redisDb: 4 });
let alice: Person;
let bob: Person;
let carol: Person;
let groupId: string;

beforeAll(async () => {
  [alice, bob, carol] = await Promise.all([
    person(fixture.stack, 'Alice'),
    person(fixture.stack, 'Bob'),
    person(fixture.stack, 'Carol'),
  ]);
  groupId = await alice.engine.createGroup('Files', [bob.id, carol.id]);
});

afterAll(async () => {
  for (const p of [alice, bob, carol]) await p?.engine.close();
});

async function bytesOf(url: string): Promise<Buffer> {
  const blob = resolveObjectURL(url);
  if (!blob) throw new Error(`no blob at ${url}`);
  return Buffer.from(await blob.arrayBuffer());
}

describe('attachments in a group', () => {
  it('sends two files with a caption; every member downloads the same bytes', async () => {
    const one = randomBytes(150_000);
    const two = randomBytes(10);
    const ref = await alice.engine.sendFiles(
      groupId,
      [
        new File([one], 'one.bin', { type: 'application/octet-stream' }),
        new File([two], 'two.txt', { type: 'text/plain' }),
      ],
      'two files',
    );
    await eventually(() =>
      expect(['sent', 'delivered', 'read']).toContain(
        messages(alice.engine, groupId).find((m) => m.contentId === ref.contentId)?.state,
      ),
    );
    for (const p of [bob, carol]) {
      const got = await eventually(() => {
        const m = messages(p.engine, groupId).find((x) => x.contentId === ref.contentId);
        expect(m?.attachments.map((a) => [a.name, a.type, a.size, a.display])).toEqual([
          ['one.bin', 'application/octet-stream', one.length, 'file'],
          ['two.txt', 'text/plain', two.length, 'file'],
        ]);
        return m;
      });
      expect(got?.text).toBe('two files');
      expect((await bytesOf(await p.engine.download(ref, 0))).equals(one)).toBe(true);
      expect((await bytesOf(await p.engine.download(ref, 1))).equals(two)).toBe(true);
      expect(p.engine.transfers.value[transferKey(ref, 0)]).toMatchObject({ state: 'done', direction: 'download' });
      expect(p.engine.conversations.value.find((c) => c.id === groupId)?.lastMessage?.text).toBe('two files');
    }
  });

  it('a message of files alone is previewed by its file name', async () => {
    const ref = await bob.engine.sendFiles(groupId, [
      new File([randomBytes(5)], 'notes.md', { type: 'text/markdown' }),
    ]);
    await eventually(() =>
      expect(messages(carol.engine, groupId).find((m) => m.contentId === ref.contentId)?.text).toBe(''),
    );
    expect(carol.engine.conversations.value.find((c) => c.id === groupId)?.lastMessage?.text).toBe('File: notes.md');
  });

  it('a cancelled upload is never sent', async () => {
    const ref = await alice.engine.sendFiles(groupId, [new File([randomBytes(300_000)], 'gone.bin')]);
    await alice.engine.cancelUpload(ref);
    expect(messages(alice.engine, groupId).some((m) => m.contentId === ref.contentId)).toBe(false);
    await alice.engine.send(groupId, 'after the cancel');
    await eventually(() => expect(messages(bob.engine, groupId).map((m) => m.text)).toContain('after the cancel'));
    expect(messages(bob.engine, groupId).some((m) => m.contentId === ref.contentId)).toBe(false);
  });
});
