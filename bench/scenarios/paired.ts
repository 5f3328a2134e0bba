/**
 * Paired A/B runs for the target ratios: the two servers of a ratio run at the same time, both
 * pinned to the server core, each saturated by its own load (50 connections), so whatever else the
 * machine does in those seconds slows both alike. The scheduler gives the two processes equal
 * shares of the core, so the ratio of their req/s is the inverse ratio of their CPU per request.
 * Sequential runs minutes apart moved a ratio by ±30 % on a busy VM; pairs agree within a few %.
 */
import { runLoad } from "../lib/load.js";
import { MODES, type ModeContext } from "../lib/modes.js";
import { median } from "../lib/stats.js";
import { startMode } from "./throughput.js";

export interface PairResult {
  /** `a/b`, e.g. `oauth2/anonymous`. */
  key: string;
  /** Median over the pair rounds of rps(a) / rps(b). */
  ratio: number | null;
  rounds: { a: number; b: number; ratio: number }[];
  error?: string;
}

/** The pairs whose ratio is a target (see bench/lib/report.ts). */
export const TARGET_PAIRS: [string, string][] = [
  ["oauth2", "anonymous"],
  ["oauth2@2025-11-25", "anonymous@2025-11-25"],
  ["anonymous", "baseline"],
  ["anonymous@2025-11-25", "baseline@2025-11-25"],
];

export async function runPairs(
  ctx: ModeContext,
  options: { rounds: number; seconds: number; connections: number; only?: string[]; log: (line: string) => void },
): Promise<PairResult[]> {
  const results: PairResult[] = [];
  for (const [aKey, bKey] of TARGET_PAIRS) {
    if (options.only && !(options.only.includes(aKey) && options.only.includes(bKey))) continue;
    const a = MODES.find((m) => m.key === aKey);
    const b = MODES.find((m) => m.key === bKey);
    if (!a || !b) continue;
    const result: PairResult = { key: `${aKey}/${bKey}`, ratio: null, rounds: [] };
    try {
      for (let round = 1; round <= options.rounds; round++) {
        // Alternate which server starts first.
        const [first, second] = round % 2 === 1 ? [a, b] : [b, a];
        const one = await startMode(first, ctx, `pair-${first.key.replace(/@/g, "_")}-r${round}`);
        let two: Awaited<ReturnType<typeof startMode>> | undefined;
        try {
          two = await startMode(second, ctx, `pair-${second.key.replace(/@/g, "_")}-r${round}`);
          const both = (durationSec: number) =>
            Promise.all(
              [one, two as NonNullable<typeof two>].map((s) =>
                runLoad({ base: s.server.base, request: s.request, connections: options.connections, durationSec }),
              ),
            );
          await both(1);
          const [x, y] = await both(options.seconds);
          const rps = new Map([
            [first.key, x?.rps ?? 0],
            [second.key, y?.rps ?? 0],
          ]);
          const ra = rps.get(aKey) ?? 0;
          const rb = rps.get(bKey) ?? 0;
          if (ra > 0 && rb > 0) result.rounds.push({ a: ra, b: rb, ratio: ra / rb });
          options.log(
            `  pair ${round} ${result.key.padEnd(42)} ${ra.toFixed(0).padStart(5)} / ${rb.toFixed(0).padStart(5)} req/s = ${(ra / rb).toFixed(2)}`,
          );
        } finally {
          await two?.server.stop();
          await one.server.stop();
        }
      }
      result.ratio = result.rounds.length > 0 ? median(result.rounds.map((r) => r.ratio)) : null;
    } catch (error) {
      result.error = (error as Error).message.slice(0, 300);
      options.log(`  pair ${result.key}: FAILED ${result.error}`);
    }
    results.push(result);
  }
  return results;
}
