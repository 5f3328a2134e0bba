/** The median (NaN for an empty list). */
export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * The ratio of two modes from one run: per round (same round, adjacent in time), then the median
 * over rounds, so slow drift of the machine cancels out.
 */
export function roundRatio(a: { rps: number }[], b: { rps: number }[]): number {
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]?.rps ?? 0;
    const y = b[i]?.rps ?? 0;
    if (x > 0 && y > 0) ratios.push(x / y);
  }
  return median(ratios);
}

/**
 * The same for CPU per request, turned so that it reads like a throughput ratio: `b`'s CPU per
 * request divided by `a`'s (above 1: `a` needs less CPU per request than `b`).
 */
export function roundCpuRatio(a: { cpuUsPerReq?: number }[], b: { cpuUsPerReq?: number }[]): number {
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]?.cpuUsPerReq ?? 0;
    const y = b[i]?.cpuUsPerReq ?? 0;
    if (x > 0 && y > 0) ratios.push(y / x);
  }
  return median(ratios);
}
