import { describe, expect, it } from 'vitest';
import { frameLimitWatcher, type LimitViolation } from '../local/gateway/frame-limits.ts';

const kb = 1024;
const limits = { maxFrameBytes: 32 * kb, maxMessageBytes: 128 * kb };
const opcodes = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9 } as const;

/** A client frame as it travels: header (7-, 16- or 64-bit length), mask key, then the payload. */
function frame(opcode: number, length: number, { fin = true, masked = true } = {}): Uint8Array {
  const extended = length < 126 ? 0 : length < 0x10000 ? 2 : 8;
  const header = new Uint8Array(2 + extended + (masked ? 4 : 0));
  const view = new DataView(header.buffer);
  header[0] = (fin ? 0x80 : 0) | opcode;
  header[1] = (masked ? 0x80 : 0) | (extended === 0 ? length : extended === 2 ? 126 : 127);
  if (extended === 2) view.setUint16(2, length);
  if (extended === 8) view.setBigUint64(2, BigInt(length));
  if (masked) header.set([1, 2, 3, 4], 2 + extended);
  const whole = new Uint8Array(header.length + length);
  whole.set(header);
  return whole;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const whole = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    whole.set(part, at);
    at += part.length;
  }
  return whole;
}

/** Feeds the bytes in chunks of `chunkSize` and returns every violation reported. */
function watch(bytes: Uint8Array, chunkSize = bytes.length): LimitViolation[] {
  const reported: LimitViolation[] = [];
  const feed = frameLimitWatcher(limits, (violation) => reported.push(violation));
  for (let at = 0; at < bytes.length; at += chunkSize) feed(bytes.subarray(at, at + chunkSize));
  return reported;
}

describe('frame limit watcher', () => {
  it.each([1, 3, 7, 4096])('accepts frames and messages at the limits, fed %i bytes at a time', (chunkSize) => {
    const stream = concat(
      frame(opcodes.text, 0),
      frame(opcodes.text, 125),
      frame(opcodes.binary, 32 * kb),
      frame(opcodes.text, 32 * kb, { fin: false }),
      frame(opcodes.continuation, 32 * kb, { fin: false }),
      frame(opcodes.continuation, 32 * kb, { fin: false }),
      frame(opcodes.continuation, 32 * kb),
    );

    expect(watch(stream, chunkSize)).toEqual([]);
  });

  it.each([1, 5, 4096])('reports a frame one byte over 32 KB, fed %i bytes at a time', (chunkSize) => {
    expect(watch(concat(frame(opcodes.text, 10), frame(opcodes.text, 32 * kb + 1)), chunkSize)).toEqual(['frame']);
  });

  it('reports a 64-bit length before any of the payload arrives', () => {
    const header = frame(opcodes.binary, 0x10000).subarray(0, 14);
    new DataView(header.buffer).setBigUint64(2, 2n ** 40n);

    expect(watch(header)).toEqual(['frame']);
  });

  it('reports a message whose fragments add up to more than 128 KB', () => {
    const fragments = [
      frame(opcodes.text, 30 * kb, { fin: false }),
      ...Array.from({ length: 3 }, () => frame(opcodes.continuation, 30 * kb, { fin: false })),
      frame(opcodes.continuation, 30 * kb),
    ];

    expect(watch(concat(...fragments), 1000)).toEqual(['message']);
  });

  it('does not count control frames between fragments, nor let them end the message', () => {
    const within = concat(
      frame(opcodes.text, 30 * kb, { fin: false }),
      frame(opcodes.ping, 125),
      frame(opcodes.continuation, 30 * kb, { fin: false }),
      frame(opcodes.ping, 125),
      frame(opcodes.continuation, 30 * kb),
    );
    const over = concat(
      frame(opcodes.text, 32 * kb, { fin: false }),
      frame(opcodes.ping, 0),
      ...Array.from({ length: 3 }, () => frame(opcodes.continuation, 32 * kb, { fin: false })),
      frame(opcodes.continuation, 1),
    );

    expect(watch(within)).toEqual([]);
    expect(watch(over)).toEqual(['message']);
  });

  it('starts counting afresh after each final fragment', () => {
    const message = concat(
      frame(opcodes.text, 32 * kb, { fin: false }),
      frame(opcodes.continuation, 32 * kb, { fin: false }),
      frame(opcodes.continuation, 32 * kb),
    );

    expect(watch(concat(message, message, message))).toEqual([]);
  });

  it('reports once and then ignores the rest of the stream', () => {
    expect(watch(concat(frame(opcodes.text, 40 * kb), frame(opcodes.text, 40 * kb)))).toEqual(['frame']);
  });

  it('reads unmasked frames too', () => {
    expect(watch(frame(opcodes.text, 33 * kb, { masked: false }))).toEqual(['frame']);
  });
});
