/** Latency percentiles and the one-line report the benchmarks print. */
export type Stats = { n: number; p50: number; p95: number; p99: number; max: number };

export function stats(values: readonly number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
  return { n: sorted.length, p50: at(50), p95: at(95), p99: at(99), max: sorted.at(-1) ?? 0 };
}

const ms = (value: number) => `${value.toFixed(2)} ms`.padStart(10);

/** `  name  p50 …  p95 …  p99 …  (n=…)`, the name padded to `width`. */
export const row = (name: string, s: Stats, width = 44) =>
  console.log(`  ${name.padEnd(width)} p50 ${ms(s.p50)}  p95 ${ms(s.p95)}  p99 ${ms(s.p99)}  (n=${s.n})`);
