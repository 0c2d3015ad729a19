import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [preact()],
  build: {
    target: 'es2022',
    sourcemap: true,
    // The lazily loaded crypto core (libsodium) is large by nature; it never delays the first paint.
    chunkSizeWarningLimit: 1024,
    // .vite/manifest.json: the entry chunk and its static imports, which `npm run bench:web` weighs as the initial load.
    manifest: true,
  },
});
