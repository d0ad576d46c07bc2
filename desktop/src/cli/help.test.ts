import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detailsOf, entriesFor, usageEntries } from './help';
import { runCli } from './testing/run-cli';

// `revtrail help …` and `revtrail <command> --help` as a real process.
let dir: string;
const cli = (args: string[]) => runCli(args, { REVTRAIL_HOME: join(dir, 'home'), REVTRAIL_SECRET_KEY_FILE: join(dir, 'key', 'secrets.key') });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'revtrail-help-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('revtrail help', () => {
  it('prints every command with `revtrail help` and --help, and each command has its flags and an example that names it', async () => {
    const all = await cli(['help']);
    expect([all.code, all.err]).toEqual([0, '']);
    expect(all.out).toContain('Exit codes:');
    expect((await cli(['--help'])).out).toBe(all.out);
    const entries = usageEntries(all.out);
    expect(entries.length).toBeGreaterThan(30);
    for (const e of entries) {
      const d = detailsOf(e);
      expect(d?.examples.length, `an example of ${e.synopsis[0]}`).toBeGreaterThan(0);
      for (const example of d!.examples) {
        // The example's own words (after any VAR=... and pipe) name this entry.
        const words = example.slice(example.indexOf('revtrail ') + 'revtrail '.length).split(/\s+/);
        expect(entriesFor(entries, words), example).toContain(e);
      }
      for (const [flag] of d!.flags ?? []) expect(e.synopsis.join(' ').includes(flag.split(' ')[0]!) || e.description.includes(flag.split(' ')[0]!), `${flag} in ${e.synopsis[0]}`).toBe(true);
    }
  }, 30_000);

  it('prints one command, short and specific, for `<command> --help` and `help <command>`', async () => {
    const one = await cli(['links', 'set', 'spring', '--help']);
    expect([one.code, one.err]).toEqual([0, '']);
    expect(one.out).toMatch(/^Usage: revtrail links set <slug> --url URL --channel NAME/);
    expect(one.out).toMatch(/^ {2}--disabled +save the link switched off/m);
    expect(one.out).toMatch(/^Examples:\n {2}revtrail links set spring-sale --url/m);
    expect(one.out).not.toContain('links list');
    expect(one.out).not.toContain('Exit codes:');
    expect(one.out.split('\n').length).toBeLessThan(25);
    for (const line of one.out.split('\n')) expect(line.length, line).toBeLessThanOrEqual(110);
    expect((await cli(['help', 'links', 'set'])).out).toBe(one.out);

    const report = await cli(['report', 'channels', '--help']);
    expect(report.out).toMatch(/^ {2}--model MODEL +last_click \(default\), first_click, linear or last_non_direct$/m);
    expect(report.out).not.toContain('programs add');
    // A word of a group: every command of it.
    const links = await cli(['help', 'links']);
    expect(links.out.match(/^Usage: revtrail links /gm)).toHaveLength(4);
    const erase = await cli(['privacy', 'erase', '--help']);
    expect(erase.out).toMatch(/^Usage: revtrail privacy find\|export\|erase/);
  }, 30_000);

  it('answers an unknown command or option with exit 2 and what to type instead', async () => {
    const unknown = await cli(['help', 'bogus']);
    expect([unknown.code, unknown.out]).toEqual([2, '']);
    expect(unknown.err).toMatch(/^No command "bogus"\. Commands: workspace, connect, .*links.*\. Run `revtrail help` for all of them\.$/m);

    const option = await cli(['links', 'set', 'x', '--bogus']);
    expect(option.code).toBe(2);
    expect(option.err).toMatch(/^Unknown option --bogus\.\n\nUsage: revtrail links set <slug>/);

    const bare = await cli(['links']);
    expect(bare.code).toBe(2);
    expect(bare.err).toMatch(/^"links" needs one of its commands:\n\nUsage: revtrail links list/);
    expect(bare.err).not.toContain('Exit codes:');

    const missing = await cli(['links', 'set', 'x', '--url', 'https://brand.com/']);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/^links set needs --url \(or --telegram-bot\) and --channel\.\n\nUsage: revtrail links set/);
  }, 30_000);
});
