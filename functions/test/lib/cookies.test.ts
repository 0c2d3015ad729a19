import { describe, expect, it } from 'vitest';
import { clearedRefreshCookie, readCookie, refreshCookie } from '#lib/cookies.ts';

describe('refresh cookie', () => {
  it('is HttpOnly, Secure, SameSite=Strict and scoped to its path', () => {
    expect(refreshCookie('tok', 60, '/auth')).toBe(
      'ct_refresh=tok; Max-Age=60; Path=/auth; HttpOnly; Secure; SameSite=Strict',
    );
    expect(clearedRefreshCookie('/auth')).toMatch(
      /^ct_refresh=; Max-Age=0; Path=\/auth; HttpOnly; Secure; SameSite=Strict$/,
    );
  });

  it('is read by exact name among other cookies', () => {
    expect(readCookie({ cookie: 'a=1; xct_refresh=no; ct_refresh=yes; b=2' }, 'ct_refresh')).toBe('yes');
    expect(readCookie({ cookie: 'ct_refresh=' }, 'ct_refresh')).toBeNull();
    expect(readCookie({}, 'ct_refresh')).toBeNull();
  });
});
