/**
 * A small big-endian binary codec for the versioned wire and storage formats. Every reader error is an
 * {@link CryptoErrorCode.InvalidMessage} (or the code the caller asks for), never a RangeError.
 */
import { CryptoError, CryptoErrorCode } from './errors.ts';

export class ByteWriter {
  #buffer: Uint8Array;
  #view: DataView;
  #length = 0;

  constructor(initialCapacity = 256) {
    this.#buffer = new Uint8Array(initialCapacity);
    this.#view = new DataView(this.#buffer.buffer);
  }

  #reserve(extra: number): void {
    const needed = this.#length + extra;
    if (needed <= this.#buffer.length) return;
    const grown = new Uint8Array(Math.max(needed, this.#buffer.length * 2));
    grown.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = grown;
    this.#view = new DataView(grown.buffer);
  }

  u8(value: number): this {
    this.#reserve(1);
    this.#view.setUint8(this.#length, value);
    this.#length += 1;
    return this;
  }

  u16(value: number): this {
    this.#reserve(2);
    this.#view.setUint16(this.#length, value);
    this.#length += 2;
    return this;
  }

  u32(value: number): this {
    this.#reserve(4);
    this.#view.setUint32(this.#length, value);
    this.#length += 4;
    return this;
  }

  bool(value: boolean): this {
    return this.u8(value ? 1 : 0);
  }

  /** Raw bytes whose length the reader knows (fixed-size keys). */
  fixed(bytes: Uint8Array): this {
    this.#reserve(bytes.length);
    this.#buffer.set(bytes, this.#length);
    this.#length += bytes.length;
    return this;
  }

  /** Length-prefixed (u32) bytes. */
  bytes(bytes: Uint8Array): this {
    return this.u32(bytes.length).fixed(bytes);
  }

  finish(): Uint8Array {
    return this.#buffer.slice(0, this.#length);
  }
}

export class ByteReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #code: CryptoErrorCode;
  #offset = 0;

  constructor(bytes: Uint8Array, code: CryptoErrorCode = CryptoErrorCode.InvalidMessage) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#code = code;
  }

  get offset(): number {
    return this.#offset;
  }

  get remaining(): number {
    return this.#bytes.length - this.#offset;
  }

  #take(length: number): number {
    if (length > this.remaining) throw new CryptoError(this.#code, 'truncated input');
    const at = this.#offset;
    this.#offset += length;
    return at;
  }

  u8(): number {
    return this.#view.getUint8(this.#take(1));
  }

  u16(): number {
    return this.#view.getUint16(this.#take(2));
  }

  u32(): number {
    return this.#view.getUint32(this.#take(4));
  }

  bool(): boolean {
    const value = this.u8();
    if (value > 1) throw new CryptoError(this.#code, 'invalid boolean');
    return value === 1;
  }

  /** A copy of the next `length` bytes. */
  fixed(length: number): Uint8Array {
    const at = this.#take(length);
    return this.#bytes.slice(at, at + length);
  }

  bytes(): Uint8Array {
    return this.fixed(this.u32());
  }

  rest(): Uint8Array {
    return this.fixed(this.remaining);
  }

  /** Fails unless every byte was consumed: trailing garbage is a malformed input. */
  end(): void {
    if (this.remaining !== 0) throw new CryptoError(this.#code, 'trailing bytes');
  }

  fail(message: string): never {
    throw new CryptoError(this.#code, message);
  }
}

/**
 * Reads the leading version byte and rejects what this library cannot read: versions newer than `current`
 * (a later library may add fields) and below `oldest` (formats retired on purpose).
 */
export function readVersion(reader: ByteReader, what: string, current: number, oldest = 1): number {
  const version = reader.u8();
  if (version > current) {
    throw new CryptoError(CryptoErrorCode.UnsupportedVersion, `${what} version ${version} is newer than ${current}`);
  }
  if (version < oldest) reader.fail(`${what} version ${version} is no longer supported`);
  return version;
}
