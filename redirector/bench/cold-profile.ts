/**
 * Where a cold start's CPU goes, from a V8 CPU profile (--cpu-prof) of the bundle built unminified: esbuild
 * then starts each module's code with a `// <path>` line, so a sample's innermost frame in the bundle names
 * its package (or source file). Samples elsewhere are Node's own: compiling the bundle, loading built-in
 * modules, the garbage collector.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileShare {
  what: string;
  ms: number;
}

/** The first `// <path>` line at or above each line of each bundle file: line index -> module path. */
function moduleMarkers(files: readonly string[]): Map<string, { lines: number[]; paths: string[] }> {
  const byFile = new Map<string, { lines: number[]; paths: string[] }>();
  for (const file of files) {
    const lines: number[] = [];
    const paths: string[] = [];
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const m = /^\/\/ (\S+)$/.exec(line);
        if (m) {
          lines.push(i);
          paths.push(m[1]!);
        }
      });
    byFile.set(basename(file), { lines, paths });
  }
  return byFile;
}

/** A module path as a package name, or the project's file. */
function owner(path: string): string {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  return m ? m[1]! : path.replace(/^(\.\.\/)+/, '');
}

/** Node's own work, by the innermost frame's function. */
function nodeWork(frame: CallFrame): string {
  const fn = frame.functionName;
  if (fn === '(garbage collector)') return 'Node: garbage collector';
  if (fn === 'compileSourceTextModule') return 'Node: compiling the bundle (ESM parse)';
  if (fn === '(idle)') return 'waiting (the first table read over TLS; the machine\'s other processes)';
  if (fn === '(program)') return 'Node: V8 and native, unattributed';
  if (frame.url.startsWith('node:') || frame.url === '') return 'Node: built-in modules and the module loader';
  return `other: ${basename(frame.url)}`;
}

/**
 * The profile's CPU from `fromMs` up to `untilMs` since the process started (the profile starts with the
 * process), by owner of the innermost bundle frame, largest first; and by the function a sample was in (its
 * self time: the leaf frame, named with the owner of the nearest bundle frame above it).
 */
export function summariseProfile(
  profileDir: string,
  bundleFiles: readonly string[],
  untilMs: number,
  fromMs = 0,
): { totalMs: number; shares: ProfileShare[]; functions: ProfileShare[] } {
  const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no CPU profile was written into ${profileDir}`);
  const profile = JSON.parse(readFileSync(join(profileDir, file), 'utf8')) as CpuProfile;
  const markers = moduleMarkers(bundleFiles);
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const ownerOf = (frame: CallFrame): string | null => {
    if (!frame.url.startsWith('file:')) return null;
    const marks = markers.get(basename(fileURLToPath(frame.url)));
    if (!marks) return null;
    let lo = 0;
    let hi = marks.lines.length - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (marks.lines[mid]! <= frame.lineNumber) {
        at = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return at === -1 ? 'the bundle\'s esbuild helpers (module wrappers, require of built-ins)' : owner(marks.paths[at]!);
  };

  const byOwner = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let elapsedUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    elapsedUs += profile.timeDeltas[i] ?? 0;
    if (elapsedUs > untilMs * 1000) break;
    if (elapsedUs < fromMs * 1000) continue;
    const leaf = nodes.get(profile.samples[i]!);
    if (!leaf) continue;
    let what: string | null = null;
    for (let id: number | undefined = leaf.id; id !== undefined && what === null; id = parent.get(id)) {
      what = ownerOf(nodes.get(id)!.callFrame);
    }
    const key = what ?? nodeWork(leaf.callFrame);
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    byOwner.set(key, (byOwner.get(key) ?? 0) + ms);
    const { functionName, url, lineNumber } = leaf.callFrame;
    if (functionName === '(idle)') continue;
    // Where the function is: a built-in module, or the bundle's file and line (the unminified build's).
    const where = url.startsWith('node:') ? ` (${url})` : url.startsWith('file:') ? ` (${basename(fileURLToPath(url))}:${lineNumber + 1})` : '';
    const fn = `${what ?? 'Node'}: ${functionName || '(anonymous)'}${where}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
  }
  const sorted = (m: Map<string, number>) => [...m].map(([w, ms]) => ({ what: w, ms })).sort((a, b) => b.ms - a.ms);
  const shares = sorted(byOwner);
  return { totalMs: shares.reduce((n, s) => n + s.ms, 0), shares, functions: sorted(byFunction) };
}
