/**
 * Builds the Console to static files in dist/ (`npm run build` at the root runs it through
 * scripts/build.mjs): content-hashed scripts and styles under assets/, served by the service at
 * /console. Nothing is loaded from another origin, so it works air-gapped; the built page
 * carries a Content-Security-Policy of its own origin only (the service sends the same policy as
 * a header). `npm run dev -w @stellaops/console` serves it with hot reload and forwards the API
 * to STELLA_CONSOLE_API (default http://127.0.0.1:8080).
 */
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

/** The policy of the built page; dev mode runs without it (its hot-reload preamble is an inline script). */
export const PAGE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'";

function contentSecurityPolicy(): Plugin {
  return {
    name: 'stella-console-csp',
    apply: 'build',
    transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: PAGE_CSP }, injectTo: 'head-prepend' }],
  };
}

const api = process.env['STELLA_CONSOLE_API'] ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  plugins: [react(), contentSecurityPolicy()],
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: false,
    modulePreload: { polyfill: false },
  },
  server: { proxy: Object.fromEntries(['/auth', '/obs', '/timeline', '/evidence', '/telemetry', '/healthz', '/readyz'].map((path) => [path, api])) },
});
