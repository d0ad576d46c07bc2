import { coldStartLines, type ColdFigures } from './cold';
import type { ClickAccount } from './clicks';
import { redirectsOf, type LoadFigures, type LoadSettings } from './load';

export interface Target {
  target: string;
  value: number;
  pass: boolean;
}

/** What one run measured: written to results/redirect.json and printed. */
export interface Results {
  date: string;
  machine: { cpus: number; cpuModel: string; os: string; memoryBytes: number; node: string };
  load: LoadSettings & { path: string; loadGenerator: string };
  redirector: LoadFigures;
  bare: LoadFigures;
  warmup: { redirector: LoadFigures; bare: LoadFigures };
  ratio: number;
  clicks: ClickAccount & { answered302: number; received: number; inFlightAtStop: number; lost: number };
  /** Absent with --load (the cold start not measured). */
  bundle?: ColdFigures['bundle'];
  ready?: ColdFigures['ready'];
  /** When the ready target was missed: where a profiled start's CPU went. */
  coldProfile?: ColdFigures['profile'];
  targets: Record<'ratio' | 'p99' | 'clicksLost' | 'ingest', Target> & Partial<Record<'bundle' | 'ready', Target>>;
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => `${Number.isInteger(n) ? n : n.toFixed(n < 10 ? 2 : 1)} ms`;
const pct = (f: number) => `${Math.round(f * 100)}%`;
const verdict = (t: Target) => `(target ${t.target}) ${t.pass ? 'PASS' : 'FAIL'}`;
const row = (label: string, a: string, b: string, note = '') => `  ${label.padEnd(22)}${a.padStart(16)}${b.padStart(18)}   ${note}`.trimEnd();

/** Each figure beside its same-run reference, and each target's verdict. */
export function printReport(res: Results, resultsPath: string): void {
  const { redirector: red, bare: ref, clicks, bundle, ready, targets } = res;
  console.log(
    [
      '',
      `Revtrail redirector benchmark  ${res.date}`,
      `Machine: ${res.machine.cpus} CPUs (${res.machine.cpuModel}), ${res.machine.os}, Node ${res.machine.node}`,
      `Load: ${res.load.loadGenerator}; ${res.load.connections} connections, ${res.load.durationSeconds} s measured after ` +
        `${res.load.warmupSeconds} s warm-up, GET ${res.load.path}, Chrome user agent; bare server first`,
      '',
      row('', 'redirector', 'bare node:http'),
      row('requests/s (mean)', int(red.requestsPerSecond), int(ref.requestsPerSecond), `ratio ${res.ratio.toFixed(2)} ${verdict(targets.ratio)}`),
      row('latency p50', ms(red.p50Ms), ms(ref.p50Ms)),
      row('latency p99', ms(red.p99Ms), ms(ref.p99Ms), verdict(targets.p99)),
      row('302s', int(redirectsOf(red)), int(redirectsOf(ref))),
      row('non-2xx/3xx', int(red.otherStatuses), int(ref.otherStatuses)),
      row('errors / timeouts', `${red.errors} / ${red.timeouts}`, `${ref.errors} / ${ref.timeouts}`),
      row('server loop busy', pct(red.serverLoopBusy), pct(ref.serverLoopBusy), '(near 100%: the server is the limit; lower: the load generator is)'),
      row('server CPU / answer', `${red.serverCpuUsPerAnswer.toFixed(1)} µs`, `${ref.serverCpuUsPerAnswer.toFixed(1)} µs`, `(the servers' process, all threads; ratio ${(red.serverCpuUsPerAnswer / ref.serverCpuUsPerAnswer).toFixed(2)}x)`),
      '',
      `Clicks: clicks stored ${int(clicks.stored)} / 302s answered ${int(clicks.answered302)} (1 probe + warm-up + measured): ` +
        `${clicks.lost === 0 ? 'none lost' : `${int(clicks.lost)} LOST`}${clicks.repeated ? `, ${clicks.repeated} repeated in the feed` : ''} ${verdict(targets.clicksLost)}`,
      `  GET /bench received by the server ${int(clicks.received)} (${int(clicks.inFlightAtStop)} still in flight when autocannon stopped, never counted as answered)`,
      `  recorder after drain: journaled ${int(clicks.recorder.spilled)}, ingested into the store ${int(clicks.recorder.stored)}, waiting ${clicks.recorder.queued}; ` +
        `ingested after the load ${int(clicks.replayed)}; drain ${ms(clicks.drainMs)}, feed count ${ms(clicks.countMs)}`,
      `Ingestion: the journal drained into the embedded store at ${int(clicks.drainPerSecond)} events/s; the store's ceiling in this run, ` +
        `${int(clicks.ceiling.items)} of the same clicks as the same items batched straight through the AWS SDK (25 a request): ` +
        `${Object.entries(clicks.ceiling.perSecond).map(([c, v]) => `${int(v)}/s with ${c} in flight`).join(', ')}`,
      `  drain / ceiling ${targets.ingest.value.toFixed(2)} ${verdict(targets.ingest)}`,
      '',
      ...(bundle && ready && targets.bundle && targets.ready
        ? coldStartLines({ bundle, ready, targets: { bundle: targets.bundle, ready: targets.ready }, ...(res.coldProfile ? { profile: res.coldProfile } : {}) })
        : ['Not measured (--load): the bundle and the cold start.']),
      '',
      `Targets: ${Object.entries(targets).map(([k, t]) => `${k} ${t.pass ? 'PASS' : 'FAIL'}`).join(', ')}`,
      `Results: ${resultsPath}`,
    ].join('\n'),
  );
}
