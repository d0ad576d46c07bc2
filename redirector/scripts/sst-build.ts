// A function's bundle as `sst deploy` (sst 4.17) builds it, for the tests and benches that run what ships:
// - the esbuild options of SST's Node runtime, sst/sst pkg/runtime/node/build.go (Build, not dev mode;
//   the same banner lines are in the installed CLI binary, node_modules/sst-linux-x64/bin/sst);
// - the function's `copyFiles`, copied into the bundle's root as SST does;
// - its links in `resource.enc`, encrypted as node_modules/sst/dist/resource/node.js decrypts them
//   (AES-256-GCM, zero nonce, tag appended), which the function reads from SST_KEY and SST_KEY_FILE.
import { createCipheriv, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';

/** Ends esbuild's service process. */
export { stop as stopBundler } from 'esbuild';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** build.go: always external, whatever the function says (installed with npm into the bundle when imported). */
const FORCE_EXTERNAL = ['sharp', 'pg-native'];

/** build.go: gives the ESM bundle the require, __filename and __dirname that bundled CommonJS packages use. */
const BANNER = [
  `import { createRequire as topLevelCreateRequire } from 'module';`,
  `const require = topLevelCreateRequire(import.meta.url);`,
  `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"`,
  `const __filename = topLevelFileUrlToPath(import.meta.url)`,
  `const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))`,
];

/** The `nodejs` options of an sst.aws.Function that SST's Node build reads (NodeProperties in node.go). */
export interface NodeOptions {
  minify?: boolean;
  sourcemap?: boolean;
  format?: 'esm' | 'cjs';
  banner?: string;
  install?: string[];
  /** Of esbuild's options SST passes on `external` (and `target` only as esbuild's Go enum, which JSON cannot give). */
  esbuild?: { external?: string[] };
  /** ESM only: dynamically imported modules in chunks of their own beside the handler's file, loaded on first import. */
  splitting?: boolean;
}

export interface SstBundle {
  /** The bundle's root: Lambda's /var/task, the working directory of the function. */
  dir: string;
  /** The handler's file inside it: `<handler's directory>/<file>.mjs`, as build.go names it. */
  file: string;
  /** The handler as Lambda is given it. */
  handler: string;
  /** The handler's file alone. */
  bytes: number;
  /** Every file esbuild wrote (the handler's and, with splitting, its chunks), absolute paths, with their sizes. */
  files: { path: string; bytes: number }[];
  /** Those the handler's file imports statically, itself included: what a cold start loads. */
  startFiles: string[];
  metafile: Metafile;
}

/**
 * Builds `handler` ("redirector/src/lambda.handler", relative to the repository root) into `outDir` the way
 * SST's Node runtime does for a deploy, then copies `copyFiles` beside it.
 */
export async function sstBuild(opts: {
  handler: string;
  outDir: string;
  nodejs?: NodeOptions;
  copyFiles?: readonly { from: string; to?: string }[];
}): Promise<SstBundle> {
  const nodejs = opts.nodejs ?? {};
  const esm = nodejs.format !== 'cjs';
  const extension = esm ? '.mjs' : '.cjs';
  const exported = extname(opts.handler); // ".handler"
  const source = opts.handler.slice(0, -exported.length);
  const entry = ['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs'].map((ext) => join(ROOT, source + ext)).find(exists);
  if (!entry) throw new Error(`Handler not found: ${opts.handler}`);
  // "Lambda handler can only contain 1 dot separating the file name and function name"
  const name = join(dirname(source), basename(source).replaceAll('.', '-'));
  const file = join(opts.outDir, name + extension);
  const result = await build({
    entryPoints: [entry],
    platform: 'node',
    external: [...FORCE_EXTERNAL, ...(nodejs.install ?? []), ...(nodejs.esbuild?.external ?? [])],
    keepNames: true,
    bundle: true,
    metafile: true,
    // build.go with splitting: the handler's directory as outdir and .mjs for every chunk, esbuild naming
    // the entry after its source (lambda.ts -> lambda.mjs, the same file) and the chunks chunk-<hash>.mjs.
    ...(nodejs.splitting ? { splitting: true, outdir: dirname(file), outExtension: { '.js': '.mjs' } } : { outfile: file }),
    write: true,
    format: esm ? 'esm' : 'cjs',
    target: 'esnext',
    mainFields: esm ? ['module', 'main'] : ['main'],
    banner: { js: esm ? [...BANNER, nodejs.banner ?? ''].join('\n') : (nodejs.banner ?? '') },
    // Not dev: minify when asked, and a linked source map unless `sourcemap` is left false.
    minify: nodejs.minify === true,
    sourcemap: nodejs.sourcemap ? 'linked' : false,
    logLevel: 'silent',
  });
  for (const copy of opts.copyFiles ?? []) {
    const to = join(opts.outDir, copy.to ?? copy.from);
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(join(ROOT, copy.from), to);
  }
  const outputs = result.metafile.outputs;
  const key = (path: string) => relative(process.cwd(), path);
  const files = Object.keys(outputs).map((out) => ({ path: resolve(out), bytes: statSync(out).size }));
  // The entry and, transitively, the chunks it imports with import statements (not import()).
  const start = new Set<string>();
  const visit = (out: string) => {
    if (start.has(out) || !outputs[out]) return;
    start.add(out);
    for (const imp of outputs[out].imports) if (imp.kind === 'import-statement' && !imp.external) visit(imp.path);
  };
  visit(key(file));
  if (start.size === 0) throw new Error(`esbuild's metafile has no output ${key(file)}`);
  return {
    dir: opts.outDir,
    file,
    handler: `${name}${exported}`,
    bytes: statSync(file).size,
    files,
    startFiles: [...start].map((out) => resolve(out)),
    metafile: result.metafile,
  };
}

function exists(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Writes the function's links (name -> properties, each with SST's `type`) to `<dir>/resource.enc` and returns
 * the variables SST sets on the function for them, with SST_RESOURCE_App as SST sets it.
 */
export function writeLinks(dir: string, links: Record<string, Record<string, unknown>>, app = { name: 'revtrail', stage: 'test' }): Record<string, string> {
  const key = randomBytes(32);
  const cipher = createCipheriv('aes-256-gcm', key, Buffer.alloc(12, 0));
  const sealed = Buffer.concat([cipher.update(JSON.stringify(links)), cipher.final(), cipher.getAuthTag()]);
  writeFileSync(join(dir, 'resource.enc'), sealed);
  return { SST_RESOURCE_App: JSON.stringify(app), SST_KEY: key.toString('base64'), SST_KEY_FILE: 'resource.enc' };
}

/** What sst.config.ts says about the functions, read from the file itself (see shippedConfig). */
export interface ShippedConfig {
  LAMBDA: { runtime: string; architecture: string; nodejs: NodeOptions; logging: { retention: string } };
  /** `nodejs`, when given, replaces LAMBDA's for this function (sst.config.ts spreads it after LAMBDA). */
  REDIRECTOR_FUNCTION: { handler: string; memory: string; timeout: string; copyFiles: readonly { from: string; to: string }[]; nodejs?: NodeOptions };
  REPLAY_FUNCTION: { handler: string; memory: string; timeout: string };
  TABLE_ACCESS: Record<'redirector' | 'replay', { actions: readonly string[]; indexes: readonly string[] }>;
  SPILL_ACTIONS: readonly string[];
  /** The redirector's non-secret environment for these deploy settings. */
  redirectorEnvironment(settings: Record<string, string | undefined>): Record<string, string>;
}

/**
 * sst.config.ts's exported constants. Outside SST the file needs only its `$config` global (the rest runs in
 * `run()`); the specifier is computed so tsc does not type-check the file without SST's globals.
 */
export async function shippedConfig(): Promise<ShippedConfig> {
  const g = globalThis as { $config?: (c: unknown) => unknown };
  g.$config ??= (c) => c;
  return (await import(pathToFileURL(join(ROOT, 'sst.config.ts')).href)) as ShippedConfig;
}

/** The largest packages in a bundle (in the outputs `only` names, absolute paths, when given), bytes after minification. */
export function largestPackages(meta: Metafile, n: number, only?: readonly string[]): { name: string; bytes: number }[] {
  const byName = new Map<string, number>();
  for (const [out, output] of Object.entries(meta.outputs)) {
    if (only && !only.includes(resolve(out))) continue;
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      // Nested copies keep their path (fastify/node_modules/x): a package bundled twice shows up twice.
      const m = /node_modules\/((?:.*\/node_modules\/)?(?:@[^/]+\/)?[^/]+)/.exec(input);
      const pkg = m?.[1] ?? input.replace(/^(\.\.\/)+/, '').split('/').slice(0, 2).join('/');
      byName.set(pkg, (byName.get(pkg) ?? 0) + bytesInOutput);
    }
  }
  return [...byName].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes).slice(0, n);
}
