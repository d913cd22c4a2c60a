/// <reference types="vitest/config" />
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin, type ProxyOptions } from "vite";

type ProxyServer = Parameters<NonNullable<ProxyOptions["configure"]>>[0];

/** Where the running API listens in development (`studypath up --port 3000`; another with STUDYPATH_API_ORIGIN). */
const API_ORIGIN = process.env.STUDYPATH_API_ORIGIN ?? "http://127.0.0.1:3000";

/** The build ships inside the Python package, so `pip install` needs no Node. */
const OUT_DIR = fileURLToPath(new URL("../studypath/static", import.meta.url));

/**
 * The browser sends `Origin: http://localhost:5173` on unsafe requests; the API checks that
 * a cookie-authenticated POST/PUT/DELETE comes from its own origin. Behind this dev proxy
 * the page's origin *is* the API's, so the proxy says so (development only).
 */
function sameOriginForApi(proxy: ProxyServer) {
  proxy.on("proxyReq", (request) => {
    if (request.getHeader("origin")) request.setHeader("origin", API_ORIGIN);
  });
}

/**
 * The built `index.html` without the indentation and line breaks between its tags. Every
 * visit asks for it again (it is served `no-cache`), so it is kept small; the text inside
 * elements is left as it is. After Vite's own changes (`order: "post"`), build only.
 */
function compactIndexHtml(): Plugin {
  return {
    name: "studypath:compact-index-html",
    apply: "build",
    transformIndexHtml: {
      order: "post",
      handler: (html) => `${html.replace(/>\s+</g, "><").trim()}\n`,
    },
  };
}

export default defineConfig({
  plugins: [react(), compactIndexHtml()],
  server: {
    port: 5173,
    strictPort: true,
    // The guide's dev setup: the page on :5173, the API behind it on the same origin, so
    // the session cookie and `credentials: "same-origin"` work as in production.
    proxy: {
      "/api": { target: API_ORIGIN, changeOrigin: true, configure: sameOriginForApi },
      "/api-docs": { target: API_ORIGIN, changeOrigin: true },
    },
  },
  build: {
    outDir: OUT_DIR,
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    reportCompressedSize: true,
    chunkSizeWarningLimit: 500,
    rollupOptions: {
      // Libraries in one chunk of their own: it changes only when a dependency does, so
      // browsers keep it cached across app releases.
      output: {
        manualChunks: (id) => (id.includes("/node_modules/") ? "vendor" : undefined),
      },
    },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    restoreMocks: true,
  },
});
