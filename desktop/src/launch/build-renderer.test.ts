import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rendererBuildIsStale } from './build-renderer';

describe('rendererBuildIsStale', () => {
  const dir = mkdtempSync(join(tmpdir(), 'revtrail-build-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is stale without a build, fresh when the build is newer than every source, stale again when it is older', () => {
    expect(rendererBuildIsStale(join(dir, 'none'))).toBe(true);
    mkdirSync(join(dir, 'out'), { recursive: true });
    const index = join(dir, 'out', 'index.html');
    writeFileSync(index, '<!doctype html>');
    const future = new Date(Date.now() + 3_600_000);
    utimesSync(index, future, future);
    expect(rendererBuildIsStale(join(dir, 'out'))).toBe(false);
    const past = new Date(Date.parse('2000-01-01'));
    utimesSync(index, past, past);
    expect(rendererBuildIsStale(join(dir, 'out'))).toBe(true);
  });
});
