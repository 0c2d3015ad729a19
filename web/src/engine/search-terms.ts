/** Search tokens: lowercase words (letters and digits of any script), accents folded, at most 64 chars each. */
export function tokenize(text: string): string[] {
  const folded = text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
  const words = folded.match(/[\p{L}\p{N}]+/gu) ?? [];
  return [...new Set(words.map((w) => w.slice(0, 64)))];
}

/** A short excerpt of `text` around the first word starting with one of `terms`. */
export function snippet(text: string, terms: readonly string[], radius = 40): string {
  const lower = text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
  let at = -1;
  for (const term of terms) {
    const match = new RegExp(`(^|[^\\p{L}\\p{N}])${term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'u').exec(lower);
    if (match && (at === -1 || match.index < at)) at = match.index + (match[1] ?? '').length;
  }
  if (at === -1 || text.length <= radius * 2) return text.length <= radius * 2 ? text : `${text.slice(0, radius * 2)}…`;
  const start = Math.max(0, at - radius);
  const end = Math.min(text.length, at + radius);
  return `${start > 0 ? '…' : ''}${text.slice(start, end)}${end < text.length ? '…' : ''}`;
}
