/**
 * The recipes of docs/same-origin/ are what docs/same-origin.md shows, byte for byte, and each parses. The ones
 * this machine can run are run by test/nginx-same-origin.test.ts; the Next.js and Vercel ones cannot be (no
 * Next.js or Vercel runtime here), so they are at least transpiled and read for the five headers.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { PROXY_HEADERS } from '../src/visitor';
import { recipe, RECIPES } from './reverse-proxy';

const page = readFileSync(join(RECIPES, '..', 'same-origin.md'), 'utf8');
const files = readdirSync(RECIPES).sort();

describe('docs/same-origin recipes', () => {
  it('has the six recipes the page describes', () => {
    expect(files).toEqual(['cloudflare-worker.js', 'netlify-edge-function.ts', 'next-middleware.ts', 'nginx.conf', 'node-proxy.mjs', 'vercel-middleware.ts']);
  });

  it.each(files)('%s is in same-origin.md as written, in its own code block', (name) => {
    expect(page).toContain(`\n${recipe(name)}\`\`\`\n`);
  });

  it.each(files.filter((f) => /\.(m?js|ts)$/.test(f)))('%s parses', (name) => {
    const out = ts.transpileModule(recipe(name), { fileName: name, reportDiagnostics: true, compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } });
    expect((out.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
  });

  it.each(files.filter((f) => f !== 'nginx.conf'))('%s sets the five headers and drops any the visitor sent', (name) => {
    const text = recipe(name);
    for (const header of Object.values(PROXY_HEADERS)) {
      // node-proxy.mjs sets the country only where asked; the redirector then records none.
      if (name === 'node-proxy.mjs' && header === PROXY_HEADERS.country) continue;
      expect(text).toMatch(new RegExp(`\\b${header}'\\]? ?[,=]|set\\('${header}'`));
    }
    expect(text).toContain("startsWith('x-revtrail-')");
  });

  it('nginx.conf sets each header with proxy_set_header, which replaces a header the visitor sent', () => {
    const text = recipe('nginx.conf');
    for (const line of ['X-Revtrail-Host $http_host;', 'X-Revtrail-Client-Ip $remote_addr;', 'X-Revtrail-Proto $scheme;', 'X-Revtrail-Country "";']) {
      expect(text).toContain(`proxy_set_header ${line}`);
    }
    expect(text).toContain('proxy_set_header X-Revtrail-Proxy-Proof "<REVTRAIL_PROXY_SECRET>";');
  });
});
