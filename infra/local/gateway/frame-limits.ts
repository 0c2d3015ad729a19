/**
 * API Gateway's two WebSocket size quotas, checked on the raw byte stream.
 *
 * `ws` only offers `maxPayload`, a limit on a whole (reassembled) message, so a
 * 40 KB frame would pass it although API Gateway closes the connection for any
 * frame over 32 KB. This watcher reads the client's frame headers as the bytes
 * arrive (it sees every chunk before `ws` does) and reports the first frame or
 * message that breaks a limit, before its payload has even arrived. It never
 * copies payload bytes: it only counts them down to the next header.
 */

export interface FrameLimits {
  /** Largest payload of a single frame, in bytes. */
  readonly maxFrameBytes: number;
  /** Largest sum of the payloads of one data message's fragments, in bytes. */
  readonly maxMessageBytes: number;
}

export type LimitViolation = 'frame' | 'message';

/** Opcodes 0x8 and up are control frames (close, ping, pong): never part of a message. */
const firstControlOpcode = 0x8;
const continuationOpcode = 0x0;

/**
 * Returns a function to feed every chunk the client sends. It calls
 * `onViolation` once, on the first breach, and ignores everything after it.
 */
export function frameLimitWatcher(
  limits: FrameLimits,
  onViolation: (violation: LimitViolation) => void,
): (chunk: Uint8Array) => void {
  // The header being read: at most 2 + 8 (length) + 4 (mask) bytes.
  const header = new Uint8Array(14);
  let headerRead = 0;
  let headerNeeded = 2;
  let payloadLeft = 0;
  let messageBytes = 0;
  let violated = false;

  const onHeader = (): void => {
    const fin = (header[0] ?? 0) & 0x80;
    const opcode = (header[0] ?? 0) & 0x0f;
    const length7 = (header[1] ?? 0) & 0x7f;
    let length = length7;
    if (length7 === 126) length = ((header[2] ?? 0) << 8) | (header[3] ?? 0);
    if (length7 === 127) {
      const view = new DataView(header.buffer, 2, 8);
      length = view.getUint32(0) * 2 ** 32 + view.getUint32(4);
    }
    payloadLeft = length;

    if (length > limits.maxFrameBytes) {
      report('frame');
    } else if (opcode < firstControlOpcode) {
      messageBytes = opcode === continuationOpcode ? messageBytes + length : length;
      if (messageBytes > limits.maxMessageBytes) report('message');
      else if (fin) messageBytes = 0;
    }
  };

  const report = (violation: LimitViolation): void => {
    violated = true;
    onViolation(violation);
  };

  return (chunk) => {
    let at = 0;
    while (at < chunk.length && !violated) {
      if (payloadLeft > 0) {
        const skip = Math.min(payloadLeft, chunk.length - at);
        payloadLeft -= skip;
        at += skip;
        continue;
      }
      header[headerRead++] = chunk[at++] ?? 0;
      if (headerRead === 2) {
        const masked = ((header[1] ?? 0) & 0x80) !== 0;
        const length7 = (header[1] ?? 0) & 0x7f;
        headerNeeded = 2 + (length7 === 126 ? 2 : length7 === 127 ? 8 : 0) + (masked ? 4 : 0);
      }
      if (headerRead >= 2 && headerRead === headerNeeded) {
        onHeader();
        headerRead = 0;
        headerNeeded = 2;
      }
    }
  };
}
