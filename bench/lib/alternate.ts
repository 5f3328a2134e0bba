/**
 * Two live servers loaded *alternately* in short slices, so both see the same moments of a noisy
 * machine and neither idles longer than one slice (too short for V8 to drop its warm-up). Used by
 * part 1b of the full run (scenarios/sign-in.ts) and by bench/paired.ts. `together` loads both at
 * once instead (bench/paired.ts --together).
 */
import { runLoad } from "./load.js";
import type { HttpRequest } from "./requests.js";
import type { Launched } from "./servers.js";
import { median } from "./stats.js";

export interface Side {
  server: Launched;
  request: HttpRequest;
}

export interface AlternateOptions {
  /** Pairs of measured slices; the order inside a pair alternates. */
  pairs: number;
  sliceSec: number;
  /** Warm-up per side, in turns of 2 s (at least one turn). */
  warmupSec: number;
  connections: number;
  /** The side loaded first (warm-up and even pairs). */
  first?: 0 | 1;
  /** Names the run in an error. */
  label: string;
}

export interface Slice {
  side: 0 | 1;
  rps: number;
  cpuUsPerReq: number;
}

export interface AlternateResult {
  slices: Slice[];
  /** Per pair: side 0's CPU µs per request ÷ side 1's (side 1's throughput relative to side 0's). */
  pairRatios: number[];
  ratio: number;
  /** Median CPU µs per request of each side. */
  cpuUs: [number, number];
  /** Median req/s of each side. */
  rps: [number, number];
}

export async function alternate(sides: readonly [Side, Side], options: AlternateOptions): Promise<AlternateResult> {
  const load = async (side: 0 | 1, durationSec: number): Promise<Slice> => {
    const { server, request } = sides[side];
    const before = server.cpuMs();
    const run = await runLoad({ base: server.base, request, connections: options.connections, durationSec });
    const after = server.cpuMs();
    if (run.bad > 0) throw new Error(`${options.label}: bad answers, first: ${run.firstBad}`);
    if (before === undefined || after === undefined || run.total === 0)
      throw new Error(`${options.label}: no CPU time or no answers`);
    return { side, rps: run.rps, cpuUsPerReq: ((after - before) * 1000) / run.total };
  };
  const first = options.first ?? 0;
  const order: [0 | 1, 0 | 1] = first === 0 ? [0, 1] : [1, 0];
  // A fresh server needs 3–5 s under load to reach its steady rate.
  for (let s = 0; s < Math.max(2, options.warmupSec); s += 2) for (const side of order) await load(side, 2);
  const slices: Slice[] = [];
  const pairRatios: number[] = [];
  for (let p = 0; p < options.pairs; p++) {
    const pair: Partial<Record<0 | 1, Slice>> = {};
    for (const side of p % 2 === 0 ? order : ([order[1], order[0]] as const)) {
      const slice = await load(side, options.sliceSec);
      pair[side] = slice;
      slices.push(slice);
    }
    pairRatios.push((pair[0] as Slice).cpuUsPerReq / (pair[1] as Slice).cpuUsPerReq);
  }
  return summary(slices, pairRatios);
}

/**
 * Both servers loaded at the same time for each slice: both are pinned to the server core, so the
 * scheduler shares it between them and every moment of the machine falls on both (alternating
 * slices see the same seconds, not the same instants). A slice's ratio is side 0's CPU µs per
 * request ÷ side 1's over the same window. Each side gets about half the core, so CPU per request
 * reads higher than alone (more context switches), for both sides alike. Slices are `pairs` long
 * windows here; the result has the shape of `alternate`'s (a "pair" is one shared slice).
 */
export async function together(sides: readonly [Side, Side], options: AlternateOptions): Promise<AlternateResult> {
  const both = async (durationSec: number): Promise<[Slice, Slice]> => {
    const before = sides.map((s) => s.server.cpuMs());
    const runs = await Promise.all(
      sides.map(({ server, request }) =>
        runLoad({ base: server.base, request, connections: options.connections, durationSec }),
      ),
    );
    const after = sides.map((s) => s.server.cpuMs());
    return runs.map((run, i) => {
      const [b, a] = [before[i], after[i]];
      if (run.bad > 0) throw new Error(`${options.label}: bad answers, first: ${run.firstBad}`);
      if (b === undefined || a === undefined || run.total === 0)
        throw new Error(`${options.label}: no CPU time or no answers`);
      return { side: i as 0 | 1, rps: run.rps, cpuUsPerReq: ((a - b) * 1000) / run.total };
    }) as [Slice, Slice];
  };
  for (let s = 0; s < Math.max(2, options.warmupSec); s += 2) await both(2);
  const slices: Slice[] = [];
  const pairRatios: number[] = [];
  for (let p = 0; p < options.pairs; p++) {
    const [a, b] = await both(options.sliceSec);
    slices.push(a, b);
    pairRatios.push(a.cpuUsPerReq / b.cpuUsPerReq);
  }
  return summary(slices, pairRatios);
}

/** The medians of a run's slices and pair ratios. */
function summary(slices: Slice[], pairRatios: number[]): AlternateResult {
  const of = (side: 0 | 1, key: "cpuUsPerReq" | "rps") =>
    median(slices.filter((s) => s.side === side).map((s) => s[key]));
  return {
    slices,
    pairRatios,
    ratio: median(pairRatios),
    cpuUs: [of(0, "cpuUsPerReq"), of(1, "cpuUsPerReq")],
    rps: [of(0, "rps"), of(1, "rps")],
  };
}
