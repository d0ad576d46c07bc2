import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import type { InlineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

const renderer = {
  root: resolve(here, 'src/renderer'),
  // Relative asset paths: the same build loads from file:// in Electron and from / in browser mode.
  base: './',
  plugins: [react()],
  build: { target: 'es2022', minify: true, chunkSizeWarningLimit: 1500 },
};

/** The renderer as plain Vite builds it: browser mode (`npm start`), the UI tests and bench:ui use it. */
export function rendererViteConfig(outDir = resolve(here, 'out/renderer')): InlineConfig {
  return { ...renderer, configFile: false, logLevel: 'warn', build: { ...renderer.build, outDir, emptyOutDir: true } };
}

// What is bundled and what is not: electron-vite leaves exactly package.json `dependencies` as imports
// (electron-builder packs those, with their own dependencies, into the app's node_modules) and bundles
// everything else, the workspace packages included. Only what cannot be bundled is a dependency: native
// modules (better-sqlite3; dynalite, whose leveldb binding node-gyp-build finds beside its own files) and
// libraries that read files of their own at run time. test/built-app.test.ts checks the output against it.
export default defineConfig({
  main: {
    // The embedded redirector serves pixel.js from the bundle: no file to find beside it at run time.
    define: { REVTRAIL_PIXEL_JS: JSON.stringify(readFileSync(resolve(here, '../redirector/src/pixel/pixel.js'), 'utf8')) },
    build: {
      rollupOptions: {
        // The core process and its worker are started by URL beside the code that starts them, so every
        // chunk sits in out/main/ with them (no chunks/ folder).
        input: {
          index: resolve(here, 'src/main/index.ts'),
          'core-process': resolve(here, 'src/host/core-process.ts'),
          'core-worker': resolve(here, 'src/host/core-worker.ts'),
        },
        output: { chunkFileNames: '[name]-[hash].js' },
      },
    },
  },
  preload: {
    build: {
      // A sandboxed preload is a classic script: CommonJS, one file.
      rollupOptions: { input: { index: resolve(here, 'src/preload/index.ts') }, output: { format: 'cjs', entryFileNames: '[name].cjs' } },
    },
  },
  renderer: { ...renderer, build: { ...renderer.build, rollupOptions: { input: { index: resolve(here, 'src/renderer/index.html') } } } },
});
