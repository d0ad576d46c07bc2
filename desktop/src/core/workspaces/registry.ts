import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SameOriginSetting } from '../same-origin/setting';
import { stepFor, type Surface } from '../surface';

/** A workspace: one business (or one Stripe Connect account), with its own database and connections. */
export interface Workspace {
  id: string;
  name: string;
  createdAt: number;
  redirectorUrl: string | null;
  /** Connect: the `Stripe-Account` this workspace reads; null for the platform account itself. */
  stripeAccount: string | null;
  /** Test mode: the Stripe API address this workspace talks to (e.g. the fake Stripe); null or absent: Stripe. */
  stripeApiBase?: string | null;
  /** Same-origin mode: the merchant's site and prefix that forward to the redirector, and its last check; null or absent: off. */
  sameOrigin?: SameOriginSetting | null;
}

const FILE = 'workspaces.json';

/** The list of workspaces (no secrets: those are in the SecretStore), as a JSON file in the data dir. */
export class WorkspaceRegistry {
  constructor(
    private readonly dataDir: string,
    /** Who reads find()'s refusals (the CLI when not said). */
    private readonly surface: Surface = 'cli',
  ) {}

  list(): Workspace[] {
    const path = join(this.dataDir, FILE);
    if (!existsSync(path)) return [];
    return (JSON.parse(readFileSync(path, 'utf8')) as { workspaces: Workspace[] }).workspaces;
  }

  add(name: string, at: number): Workspace {
    const ws: Workspace = { id: randomBytes(6).toString('hex'), name, createdAt: at, redirectorUrl: null, stripeAccount: null };
    this.save([...this.list(), ws]);
    return ws;
  }

  update(id: string, change: Partial<Omit<Workspace, 'id' | 'createdAt'>>): Workspace {
    const all = this.list();
    const i = all.findIndex((w) => w.id === id);
    if (i < 0) throw new Error(`no workspace ${id}`);
    const next = { ...all[i]!, ...change };
    all[i] = next;
    this.save(all);
    return next;
  }

  /** By id or by name (case-insensitive); with no reference, the only workspace there is. */
  find(ref: string | undefined): Workspace | { error: string } {
    const all = this.list();
    const names = all.map((w) => w.name).join(', ');
    if (all.length === 0) return { error: stepFor(this.surface, { app: 'There is no workspace yet: create one on the Set up screen.', cli: 'There is no workspace yet: create one with `revtrail workspace add <name>`.' }) };
    if (ref === undefined) {
      if (all.length === 1) return all[0]!;
      return { error: stepFor(this.surface, { app: `There are ${all.length} workspaces: pick one in the list at the top.`, cli: `There are ${all.length} workspaces: say which with --workspace (${names}).` }) };
    }
    const hit = all.find((w) => w.id === ref) ?? all.find((w) => w.name.toLowerCase() === ref.toLowerCase());
    return hit ?? { error: stepFor(this.surface, { app: `That workspace is not here any more: pick one in the list at the top (${names}).`, cli: `No workspace named "${ref}". Workspaces: ${names}.` }) };
  }

  databasePath(id: string): string {
    const dir = join(this.dataDir, 'workspaces', id);
    mkdirSync(dir, { recursive: true });
    return join(dir, 'workspace.sqlite');
  }

  private save(all: Workspace[]): void {
    mkdirSync(this.dataDir, { recursive: true });
    const path = join(this.dataDir, FILE);
    writeFileSync(`${path}.tmp`, JSON.stringify({ workspaces: all }, null, 2));
    renameSync(`${path}.tmp`, path);
  }
}
