/** The median (NaN for an empty list). */
export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** `a / b` round by round (same round, adjacent in time); undefined where either side has no rate. */
export function perRoundRatios(a: { rps: number }[], b: { rps: number }[]): (number | undefined)[] {
  return a.slice(0, b.length).map((x, i) => {
    const y = b[i]?.rps ?? 0;
    return x.rps > 0 && y > 0 ? x.rps / y : undefined;
  });
}

/**
 * The ratio of two modes from one run: per round, then the median over rounds, so slow drift of the
 * machine cancels out.
 */
export function roundRatio(a: { rps: number }[], b: { rps: number }[]): number {
  return median(perRoundRatios(a, b).filter((r): r is number => r !== undefined));
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
