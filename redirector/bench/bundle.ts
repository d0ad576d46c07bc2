import { copyFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';

/** Ends esbuild's service process. */
export { stop as stopBundler } from 'esbuild';

const REDIRECTOR = fileURLToPath(new URL('..', import.meta.url));

// SST's own Node build (sst/sst pkg/runtime/node/build.go): these two are always external, and this
// banner gives the ESM bundle the require/__dirname that bundled CommonJS packages expect.
const SST_EXTERNAL = ['sharp', 'pg-native'];
const SST_BANNER = [
  `import { createRequire as topLevelCreateRequire } from 'module';`,
  `const require = topLevelCreateRequire(import.meta.url);`,
  `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"`,
  `const __filename = topLevelFileUrlToPath(import.meta.url)`,
  `const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))`,
].join('\n');

export interface BundleFigures {
  file: string;
  bytes: number;
  /** The largest packages in the output, bytes after minification. */
  largest: { name: string; bytes: number }[];
}

function largestPackages(meta: Metafile, n: number): { name: string; bytes: number }[] {
  const byName = new Map<string, number>();
  for (const output of Object.values(meta.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      // Nested copies keep their path (fastify/node_modules/x): a package bundled twice shows up twice.
      const m = /node_modules\/((?:.*\/node_modules\/)?(?:@[^/]+\/)?[^/]+)/.exec(input);
      const pkg = m?.[1] ?? input.replace(/^(\.\.\/)+/, '').split('/').slice(0, 2).join('/');
      byName.set(pkg, (byName.get(pkg) ?? 0) + bytesInOutput);
    }
  }
  return [...byName].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes).slice(0, n);
}

/**
 * src/lambda.ts bundled as `sst deploy` does with sst.config.ts's settings (ESM .mjs, minified, no source
 * map, keepNames), target node24 for the nodejs24.x runtime, with pixel.js copied beside it.
 */
export async function bundleLambda(outDir: string, opts: { externalSdk: boolean }): Promise<BundleFigures> {
  const file = join(outDir, 'lambda.mjs');
  const result = await build({
    entryPoints: [join(REDIRECTOR, 'src/lambda.ts')],
    outfile: file,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    bundle: true,
    minify: true,
    keepNames: true,
    sourcemap: false,
    mainFields: ['module', 'main'],
    external: opts.externalSdk ? [...SST_EXTERNAL, '@aws-sdk/*'] : SST_EXTERNAL,
    banner: { js: SST_BANNER },
    metafile: true,
    logLevel: 'silent',
  });
  copyFileSync(join(REDIRECTOR, 'src/pixel/pixel.js'), join(outDir, 'pixel.js'));
  return { file, bytes: statSync(file).size, largest: largestPackages(result.metafile, 8) };
}
