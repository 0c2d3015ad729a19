import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { siteContentSecurityPolicy } from '../lib/site-policy.ts';
import { startWebServer } from '../local/web-server.ts';

/** The local stand-in for CloudFront + S3 sends what CloudFront sends, and publishes no source maps. */
describe('local web server', () => {
  let root: string;
  let server: Awaited<ReturnType<typeof startWebServer>>;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ct-web-'));
    await mkdir(join(root, 'assets'));
    await writeFile(join(root, 'index.html'), '<!doctype html><title>t</title>');
    await writeFile(join(root, 'assets', 'app.js'), 'console.log(1)\n//# sourceMappingURL=app.js.map');
    await writeFile(join(root, 'assets', 'app.js.map'), '{"version":3,"sources":["secret.ts"]}');
    server = await startWebServer({
      port: 0,
      root,
      runtimeConfig: { apiUrl: 'http://localhost:3000', wsUrl: 'ws://localhost:3001/local' },
    });
  });
  afterAll(async () => {
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  it("sends CloudFront's Content-Security-Policy (object-src 'none' included) and nosniff", async () => {
    const page = await fetch(`${server.url}/`);
    const csp = page.headers.get('content-security-policy');
    expect(csp).toBe(siteContentSecurityPolicy(['http://localhost:3000', 'ws://localhost:3001']));
    expect(csp).toContain("object-src 'none'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('does not serve source maps (nor the SPA in their place)', async () => {
    expect((await fetch(`${server.url}/assets/app.js`)).status).toBe(200);
    const map = await fetch(`${server.url}/assets/app.js.map`);
    expect(map.status).toBe(404);
    expect(await map.text()).not.toContain('secret.ts');
  });
});
