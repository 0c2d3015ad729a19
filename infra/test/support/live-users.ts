import type { Conversation } from '@ciphertalk/shared/protocol';
import { afterAll } from 'vitest';
import { type LiveDevice, liveUser } from './live.ts';
import type { StackFixture } from './stack-fixture.ts';

/**
 * `liveUser` on a test file's stack, with every device it opens closed after the file (registers an
 * `afterAll`: call it at the top of the file).
 */
export function liveUsersOn(fx: StackFixture) {
  const open: LiveDevice[] = [];
  afterAll(() => Promise.all(open.map((device) => device.close())));
  return async (label: string) => {
    const account = await liveUser(fx.stack.restUrl, fx.stack.wsUrl, label);
    return {
      ...account,
      device: async () => {
        const device = await account.device();
        open.push(device);
        return device;
      },
    };
  };
}

/** The direct conversation of a device's user with another user (created, or the existing one). */
export async function directConversation(a: LiveDevice, b: { userId: string }): Promise<string> {
  const answer = await a.client.post('/conversations', { kind: 'direct', userId: b.userId });
  return (answer.body.conversation as Conversation).id;
}
