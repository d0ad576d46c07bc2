import { largestPackages, shippedConfig, sstBuild, stopBundler } from '../scripts/sst-build';

/** Ends esbuild's service process. */
export { stopBundler };

export interface BundleFigures {
  /** The bundle's root (Lambda's /var/task) and the handler's file in it. */
  dir: string;
  file: string;
  /** The handler's file alone. */
  bytes: number;
  /** What a cold start loads: the handler's file and the chunks it imports statically. */
  startBytes: number;
  /** Every file of code in the package (with splitting, the chunks loaded on first use too). */
  totalBytes: number;
  files: { path: string; bytes: number }[];
  /** The largest packages in what a cold start loads, bytes after minification. */
  largest: { name: string; bytes: number }[];
}

/**
 * src/lambda.ts bundled as `sst deploy` builds it from sst.config.ts's settings (scripts/sst-build.ts: SST's
 * esbuild options, ESM .mjs at redirector/src/lambda.mjs, target esnext, minified, no source map, the AWS SDK
 * inside), with pixel.js copied into the root. `externalSdk`: the same with @aws-sdk/* left out, as a
 * comparison only (Lambda's Node runtime has an SDK of its own, of a version the project does not choose).
 */
export async function bundleLambda(outDir: string, opts: { externalSdk: boolean; unminified?: boolean }): Promise<BundleFigures> {
  const { LAMBDA, REDIRECTOR_FUNCTION } = await shippedConfig();
  const nodejs = REDIRECTOR_FUNCTION.nodejs ?? LAMBDA.nodejs;
  const bundle = await sstBuild({
    handler: REDIRECTOR_FUNCTION.handler,
    outDir,
    nodejs: {
      ...nodejs,
      ...(opts.externalSdk ? { esbuild: { external: [...(nodejs.esbuild?.external ?? []), '@aws-sdk/*'] } } : {}),
      // For a profile only: esbuild then marks each module's code with a `// <path>` line.
      ...(opts.unminified ? { minify: false } : {}),
    },
    copyFiles: REDIRECTOR_FUNCTION.copyFiles,
  });
  const sum = (files: { bytes: number }[]) => files.reduce((n, f) => n + f.bytes, 0);
  return {
    dir: bundle.dir,
    file: bundle.file,
    bytes: bundle.bytes,
    startBytes: sum(bundle.files.filter((f) => bundle.startFiles.includes(f.path))),
    totalBytes: sum(bundle.files),
    files: bundle.files,
    largest: largestPackages(bundle.metafile, 8, bundle.startFiles),
  };
}
