import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DESKTOP_DIR = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const RENDERER_SRC = join(DESKTOP_DIR, 'src', 'renderer');
export const RENDERER_OUT = join(DESKTOP_DIR, 'out', 'renderer');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** True when there is no build, or a source the renderer bundles (its own, the transport contract, shared/) changed after it. */
export function rendererBuildIsStale(outDir = RENDERER_OUT): boolean {
  const index = join(outDir, 'index.html');
  if (!existsSync(index)) return true;
  const built = statSync(index).mtimeMs;
  return [RENDERER_SRC, join(DESKTOP_DIR, 'src', 'transport'), join(DESKTOP_DIR, '..', 'shared', 'src')].some((d) => newestMtime(d) > built);
}

/** Builds the renderer with Vite (the same options electron-vite uses for the app). */
export async function buildRenderer(outDir = RENDERER_OUT): Promise<string> {
  const [{ build }, { rendererViteConfig }] = await Promise.all([import('vite'), import('../../electron.vite.config')]);
  await build(rendererViteConfig(outDir));
  return outDir;
}
