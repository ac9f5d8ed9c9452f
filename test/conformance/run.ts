// `npm run conformance [-- --json] [-- --only A,B] [-- --verbose] [-- --no-real]`: the Gateway API
// conformance report. Requests are simulated with the route evaluator, except gRPC requests, which
// a real proxyless gRPC client makes through the xds-server (real-grpc.ts; --no-real simulates
// them too). Exit status 0 whatever the verdicts (it is a report); 1 only when the harness fails.
import { totals, type CaseResult } from './harness.ts';
import { runConformanceReal } from './real-grpc.ts';

interface Args { json: boolean; verbose: boolean; real: boolean; only: string[] }

function parseArgs(argv: string[]): Args {
  const args: Args = { json: false, verbose: false, real: true, only: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') args.json = true;
    else if (a === '--verbose' || a === '-v') args.verbose = true;
    else if (a === '--no-real') args.real = false;
    else if (a === '--only') args.only.push(...(argv[++i] ?? '').split(',').map((s) => s.trim()).filter(Boolean));
    else if (a.startsWith('--only=')) args.only.push(...a.slice(7).split(',').map((s) => s.trim()).filter(Boolean));
    else throw new Error(`unknown argument ${a} (use --json, --only A,B, --verbose, --no-real)`);
  }
  return args;
}

const frac = (p: number, t: number) => (t ? `${p}/${t}` : '-');

interface Row { status: [number, number]; sim: [number, number]; real: [number, number]; notRun: number }

function row(results: CaseResult[]): Row {
  const r: Row = { status: [0, 0], sim: [0, 0], real: [0, 0], notRun: 0 };
  for (const c of results) {
    for (const s of c.status) if (!s.notRun) { r.status[1]++; if (s.passed) r.status[0]++; }
    for (const q of c.requests) {
      if (q.mode === 'not-run') { r.notRun++; continue; }
      const slot = q.mode === 'simulated' ? r.sim : r.real;
      slot[1]++;
      if (q.passed) slot[0]++;
    }
  }
  return r;
}

function table(title: string, rows: Array<[string, Row]>): string {
  const head = [title, 'status', 'req simulated', 'req real', 'req not-run'];
  const body = rows.map(([name, r]) => [name, frac(...r.status), frac(...r.sim), frac(...r.real), String(r.notRun)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const { results, real } = await runConformanceReal({ only: args.only, real: args.real });
  const t = totals(results);
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ totals: t, real, cases: results })}\n`);
    return;
  }
  const inScope = results.filter((r) => r.scope === 'run');
  const out: string[] = [];
  out.push(table('test', inScope.map((c) => [`${c.name}${c.provisional ? ' (provisional)' : ''}`, row([c])])));
  const features = [...new Set(inScope.flatMap((c) => c.features))].sort();
  out.push('', table('feature', features.map((f) => [f, row(inScope.filter((c) => c.features.includes(f)))])));
  if (args.verbose) {
    out.push('');
    for (const c of inScope) {
      const failed = c.status.filter((s) => !s.passed);
      const reqs = c.requests.filter((q) => q.mode !== 'not-run' && !q.passed);
      if (!failed.length && !reqs.length && !c.errors.length) continue;
      out.push(`${c.name}:`);
      for (const e of c.errors) out.push(`  ! ${e}`);
      for (const s of failed) out.push(`  x ${s.assertion} ${s.object}${s.phase ? ` (phase ${s.phase})` : ''}: ${s.notRun ? `not run: ${s.notRun}` : s.problems.join('; ')}`);
      for (const q of reqs) out.push(`  x ${q.mode} request ${q.subtest ?? ''}${q.phase ? ` (phase ${q.phase})` : ''}: ${q.problems.join('; ')}${q.mode === 'real' && q.hint ? ` [${q.hint}]` : ''}`);
    }
  }
  out.push('', `cases: ${t.cases} in scope; out of scope: ${t.outOfScope.mesh} mesh, ${t.outOfScope.runOnlyIf} by runOnlyIf`);
  out.push(`status checks: ${t.status.passed}/${t.status.total} passed${t.status.notRun ? ` (${t.status.notRun} not run)` : ''}`);
  out.push(`requests: simulated ${t.requests.simulated.passed}/${t.requests.simulated.total} passed, real ${t.requests.real.passed}/${t.requests.real.total}, not run ${t.requests.notRun}`);
  if (args.real) out.push(`real gRPC: ${real.requests} requests through @grpc/grpc-js-xds in ${(real.ms / 1000).toFixed(1)} s`);
  for (const e of real.errors) out.push(`! ${e}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

main().then(() => process.exit(0), (err) => {
  process.stderr.write(`conformance harness failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
