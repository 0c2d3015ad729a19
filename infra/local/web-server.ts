import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { permissionsPolicy, siteContentSecurityPolicy } from '../lib/site-policy.ts';

export interface WebServerOptions {
  readonly port: number;
  readonly host?: string;
  /** The SPA's built files (`web/dist`). */
  readonly root: string;
  /** Served as `/config.json`: the SPA reads its API and WebSocket URLs at run time, as from S3 in AWS. */
  readonly runtimeConfig: { readonly apiUrl: string; readonly wsUrl: string };
  /** Where browsers upload and download attachments (the S3 endpoint): allowed by the CSP's connect-src. */
  readonly objectStoreUrl?: string;
}

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.webmanifest': 'application/manifest+json',
  '.woff2': 'font/woff2',
};

/**
 * The local stand-in for CloudFront + S3: static files, the runtime config,
 * SPA fallback to index.html, and the same security headers (the CSP of
 * `siteContentSecurityPolicy`, allowing exactly the API, WebSocket and object
 * store origins). Source maps are not served.
 */
export async function startWebServer(options: WebServerOptions) {
  const root = normalize(options.root).replace(/[\\/]+$/, '');
  const { apiUrl, wsUrl } = options.runtimeConfig;
  const origins = [apiUrl, wsUrl, ...(options.objectStoreUrl ? [options.objectStoreUrl] : [])].map(
    (url) => new URL(url).origin,
  );
  const security = {
    'content-security-policy': siteContentSecurityPolicy([...new Set(origins)]),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'permissions-policy': permissionsPolicy,
  };

  const server = createServer((req, res) => {
    serve(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(400);
      res.end();
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Throws on malformed escapes: answered 400 above.
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    if (path === '/config.json') {
      res.writeHead(200, { ...security, 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(options.runtimeConfig));
      return;
    }
    // Source maps stay private: the build writes them for debugging, the site does not publish them.
    if (path.endsWith('.map')) {
      res.writeHead(404, security).end();
      return;
    }
    let file = normalize(join(root, path));
    if (!file.startsWith(root + sep) && file !== root) {
      res.writeHead(400).end();
      return;
    }
    const found = await stat(file).catch(() => null);
    if (!found?.isFile()) file = join(root, 'index.html');
    const isAsset = file.includes(`${sep}assets${sep}`);
    res.writeHead(200, {
      ...security,
      'content-type': types[extname(file)] ?? 'application/octet-stream',
      'cache-control': isAsset ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  }

  await new Promise<void>((resolve) => server.listen(options.port, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://localhost:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
