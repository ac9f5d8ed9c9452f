// `npm run bench [-- NAME...] [-- --json]`: the benchmarks (all by default), each printing a table;
// with --json, one JSON object: bench name → figure → {value, unit, note}.
import { benchPipeline } from './pipeline.ts';
import { printFigures, type Figure } from './report.ts';
import { benchTranslate } from './translate.ts';
import { benchXdsLoad } from './xds-load.ts';

const BENCHES: Record<string, { title: string; run: () => Promise<Figure[]> | Figure[] }> = {
  pipeline: { title: 'pipeline: manifest edit → gRPC client ACK', run: benchPipeline },
  translate: { title: 'translate: 100 Gateways, one route change vs full translation', run: benchTranslate },
  xds: { title: 'xds: 100 Gateways, 1,000 and 5,000 ADS proxies, one route on every Gateway → ACK', run: benchXdsLoad },
};

const json = process.argv.includes('--json');
const names = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const unknown = names.filter((n) => !(n in BENCHES));
if (unknown.length > 0) {
  process.stderr.write(`unknown bench ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}\n`);
  process.exit(2);
}
const out: Record<string, Record<string, unknown>> = {};
for (const name of names.length > 0 ? names : Object.keys(BENCHES)) {
  const figures = await BENCHES[name].run();
  if (json) out[name] = Object.fromEntries(figures.map((f) => [f.name, { value: f.value, unit: f.unit, ...(f.note ? { note: f.note } : {}) }]));
  else printFigures(BENCHES[name].title, figures);
}
if (json) process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);
