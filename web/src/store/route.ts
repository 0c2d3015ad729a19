import { signal } from '@preact/signals';

/**
 * The screen, from the URL's fragment (`#/c/<id>`): fragment routes need nothing from the static host (S3 and
 * the local twin serve one index.html) and keep the password-reset token out of server logs, as the reset mail's
 * `/#/reset-password?token=` link does.
 */
export type Route =
  | { readonly name: 'login' }
  | { readonly name: 'register' }
  | { readonly name: 'forgot-password' }
  | { readonly name: 'reset-password'; readonly token: string }
  | { readonly name: 'home' }
  | { readonly name: 'chat'; readonly conversationId: string }
  | { readonly name: 'details'; readonly conversationId: string }
  | { readonly name: 'new-direct' }
  | { readonly name: 'new-group' }
  | { readonly name: 'safety'; readonly userId: string; readonly conversationId: string | null }
  | { readonly name: 'search'; readonly query: string }
  | { readonly name: 'settings' }
  | { readonly name: 'devices' };

export function parseRoute(hash: string): Route {
  const [path = '', queryString = ''] = hash.replace(/^#/, '').split('?', 2);
  const query = new URLSearchParams(queryString);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const [first, second, third] = parts;
  switch (first) {
    case 'login':
      return { name: 'login' };
    case 'register':
      return { name: 'register' };
    case 'forgot-password':
      return { name: 'forgot-password' };
    case 'reset-password':
      return { name: 'reset-password', token: query.get('token') ?? '' };
    case 'new':
      return { name: 'new-direct' };
    case 'new-group':
      return { name: 'new-group' };
    case 'search':
      return { name: 'search', query: query.get('q') ?? '' };
    case 'settings':
      return { name: 'settings' };
    case 'devices':
      return { name: 'devices' };
    case 'safety':
      if (second) return { name: 'safety', userId: second, conversationId: query.get('from') };
      break;
    case 'c':
      if (second && third === 'details') return { name: 'details', conversationId: second };
      if (second) return { name: 'chat', conversationId: second };
      break;
  }
  return { name: 'home' };
}

export const paths = {
  login: '#/login',
  register: '#/register',
  forgotPassword: '#/forgot-password',
  home: '#/',
  chat: (conversationId: string) => `#/c/${encodeURIComponent(conversationId)}`,
  details: (conversationId: string) => `#/c/${encodeURIComponent(conversationId)}/details`,
  newDirect: '#/new',
  newGroup: '#/new-group',
  safety: (userId: string, from?: string) =>
    `#/safety/${encodeURIComponent(userId)}${from ? `?from=${encodeURIComponent(from)}` : ''}`,
  search: (query: string) => `#/search?q=${encodeURIComponent(query)}`,
  settings: '#/settings',
  devices: '#/devices',
} as const;

export const route = signal<Route>(parseRoute(globalThis.location?.hash ?? ''));

export function navigate(hash: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, '', hash);
  else history.pushState(null, '', hash);
  route.value = parseRoute(location.hash);
}

/** Follows the address bar (back, forward, typed fragments). */
export function startRouting(): () => void {
  const update = () => {
    route.value = parseRoute(location.hash);
  };
  addEventListener('hashchange', update);
  addEventListener('popstate', update);
  return () => {
    removeEventListener('hashchange', update);
    removeEventListener('popstate', update);
  };
}
