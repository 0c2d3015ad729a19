/**
 * Message padding (ISO/IEC 7816-4, as Signal's apps do): a 0x80 byte after the content, then zeros up to a
 * multiple of the bucket, so the ciphertext tells the server only the size bucket, not the length.
 */
export const PAD_BUCKET_BYTES = 160;

export function pad(content: Uint8Array, bucket: number = PAD_BUCKET_BYTES): Uint8Array {
  const length = Math.ceil((content.length + 1) / bucket) * bucket;
  const out = new Uint8Array(length);
  out.set(content);
  out[content.length] = 0x80;
  return out;
}

export function unpad(padded: Uint8Array): Uint8Array {
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (end < 0 || padded[end] !== 0x80) throw new RangeError('bad padding');
  return padded.subarray(0, end);
}
