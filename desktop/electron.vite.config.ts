import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import type { InlineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));
// Workspace packages ship TypeScript sources: they are bundled, never left as runtime imports.
const bundled = ['@revtrail/shared', '@revtrail/redirector'];

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

export default defineConfig({
  main: {
    build: {
      externalizeDeps: { exclude: bundled },
      rollupOptions: { input: { index: resolve(here, 'src/main/index.ts') } },
    },
  },
  preload: {
    build: {
      externalizeDeps: { exclude: bundled },
      // A sandboxed preload is a classic script: CommonJS, one file.
      rollupOptions: { input: { index: resolve(here, 'src/preload/index.ts') }, output: { format: 'cjs', entryFileNames: '[name].cjs' } },
    },
  },
  renderer: { ...renderer, build: { ...renderer.build, rollupOptions: { input: { index: resolve(here, 'src/renderer/index.html') } } } },
});
