import { describe, expect, it } from 'vitest';
import { snippet, tokenize } from '../../src/engine/search-terms.ts';

describe('tokenize', () => {
  it('lowercases, splits on anything but letters and digits, folds accents and drops duplicates', () => {
    expect(tokenize('Café, CAFE and the 2nd café!')).toEqual(['cafe', 'and', 'the', '2nd']);
  });

  it('keeps words of other scripts', () => {
    expect(tokenize('Привет мир 你好')).toEqual(['привет', 'мир', '你好']);
  });

  it('gives nothing for punctuation only', () => {
    expect(tokenize(' ...!? ')).toEqual([]);
  });
});

describe('snippet', () => {
  it('returns short texts whole', () => {
    expect(snippet('The quarterly figures', ['quart'])).toBe('The quarterly figures');
  });

  it('cuts long texts around the first word that starts with a term', () => {
    const text = `${'lorem ipsum '.repeat(20)}the budget is final${' dolor sit'.repeat(20)}`;
    const cut = snippet(text, ['budg']);
    expect(cut).toContain('budget is final');
    expect(cut.startsWith('…')).toBe(true);
    expect(cut.endsWith('…')).toBe(true);
    expect(cut.length).toBeLessThan(90);
  });
});
