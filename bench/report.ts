// Benchmark output: a table for people (bench/run.ts prints the JSON form).
export interface Figure {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

export function stats(samples: number[]): { median: number; p90: number; p99: number; min: number; max: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { median: at(0.5), p90: at(0.9), p99: at(0.99), min: s[0], max: s[s.length - 1] };
}

export function printFigures(title: string, figures: Figure[]): void {
  const rows = figures.map((f) => [f.name, f.value < 10 ? f.value.toFixed(3) : f.value.toFixed(1), f.unit, f.note ?? '']);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...[['figure', 'value', 'unit', 'note'][i], ...rows.map((r) => r[i])].map((x) => x.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 1 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  process.stdout.write(`${title}\n${line(['figure', 'value', 'unit', 'note'])}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}\n`);
}
