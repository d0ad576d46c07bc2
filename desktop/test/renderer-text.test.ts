import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RENDERER_SRC } from '../src/launch/build-renderer';

/** The renderer's own sources (not its build output), as path and text. */
function rendererSources(dir = RENDERER_SRC): { file: string; text: string }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'out' ? [] : rendererSources(path);
    return /\.tsx?$/.test(e.name) && !/\.test\.ts$/.test(e.name) ? [{ file: relative(RENDERER_SRC, path), text: readFileSync(path, 'utf8') }] : [];
  });
}

/** Lines matching `re`, as "file:line: text". */
function hits(re: RegExp, skip: (file: string, line: string) => boolean = () => false): string[] {
  return rendererSources().flatMap(({ file, text }) =>
    text.split('\n').flatMap((line, i) => (re.test(line) && !skip(file, line) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
  );
}

// Words ending in "s" that follow a value in a sentence without being its plural noun (ms: a unit, the same for 1).
const NOT_NOUNS = new Set(['was', 'has', 'does', 'goes', 'says', 'this', 'its', 'is', 'as', 'always', 'plus', 'less', 'us', 'ms']);

describe('renderer text', () => {
  it('puts every count in a sentence through plural() ("1 partners", "1 new clicks")', () => {
    // `{n} nouns` in JSX or `${n} nouns` in a template (or `{n} link changes`), n a value or formatCount(...).
    const bare = /(?<![=\w])(?:\$\{|\{)(?:formatCount\()?[\w.?!()[\]]+\)?\}\s+(?:[a-z]+\s+)?([a-z]+s)\b(?!\s*=)/;
    const found = hits(bare, (_file, line) => {
      const noun = bare.exec(line)?.[1] ?? '';
      // `n > 1 && ... {n} tries` is plural by its guard.
      return NOT_NOUNS.has(noun) || /> 1 &&/.test(line);
    });
    expect(found).toEqual([]);
  });

  it('tells the user what to do in the app, never with a CLI command or an HTTP method', () => {
    // String literals and JSX text that name a command to run or an HTTP request; comments are not shown.
    const cli = /['"`>][^'"`<]*(\bnpm (start|run)\b|\brevtrail [a-z]+ [a-z-]+|\b(GET|PUT|POST|DELETE|PATCH) \/)/;
    // Meta.tsx shows what Meta's API answered (its HTTP status), a record of another service's reply; the
    // browser-mode page without a key names the terminal Revtrail was started from (`npm start`), not a step.
    const allowed = (file: string, line: string) => (file === join('screens', 'Meta.tsx') && line.includes('HTTP')) || (file === join('screens', 'OpenPrintedAddress.tsx') && line.includes('where you started it'));
    expect(hits(cli, (file, line) => /^\s*(\/\/|\*|\/\*)/.test(line) || allowed(file, line))).toEqual([]);
  });
});
