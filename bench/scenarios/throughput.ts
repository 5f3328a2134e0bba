/**
 * Part 1: tools/call throughput and latency. Rounds of every mode, interleaved, a fresh server
 * process per mode and round: start, warm up, saturate (50 connections), then a fixed offered
 * load of 50 % of the capacity the SDK v2 baseline of the same protocol era had in this round
 * (lib/paced.ts: evenly spaced requests, latency from the moment each was due, in µs); resident
 * memory read after the runs; stop. A server is always loaded alone on the server core.
 *
 * What the design answers to, measured on the 2-core VM (bench/README.md):
 * - a fresh Node server needs 3–5 s under load to reach its steady rate (the JIT): after 1 s of
 *   warm-up a 3 s run averaged ~60 % of it, so the warm-up is 4 s;
 * - a server that idles for a minute after its warm-up loses most of it (V8 shrinks the heap and
 *   drops code it has not run): with every server of a round started and warmed first and measured
 *   later, the first ones measured 2.5× their CPU per request — so each mode runs start to stop
 *   before the next one starts;
 * - two servers saturated at once on one core answered 2–3.5× fewer requests in total than one
 *   alone: contention, not cost per request — so ratios come from runs seconds apart, not at once.
 * Within a round the two SDK v2 baselines run first (their capacity sets the fixed load of their
 * era), the other modes in MODES order, reversed in even rounds, so neither side of a ratio always
 * runs first; a ratio's modes are neighbours in MODES where they can be, and always in the same round.
 */
import { runLoad } from "../lib/load.js";
import { MODES, type Mode, type ModeContext } from "../lib/modes.js";
import { runPaced } from "../lib/paced.js";
import { send, toolCall, verdict } from "../lib/requests.js";
import { launch } from "../lib/servers.js";
import { median } from "../lib/stats.js";

export interface ThroughputOptions {
  rounds: number;
  warmupSec: number;
  saturationSec: number;
  fixedSec: number;
  connections: number;
  /** Only these mode keys (default all). */
  only?: string[];
  log: (line: string) => void;
}

export interface RoundResult {
  rps: number;
  /** Server CPU time (user + system, all threads) per answered request at saturation, µs. */
  cpuUsPerReq: number | undefined;
  /** At saturation, ms: autocannon's whole milliseconds. */
  p50: number;
  p99: number;
  /**
   * At the fixed offered load (ms, µs resolution): 50 % of this round's SDK v2 baseline capacity in
   * the mode's era; undefined when that baseline did not run (or failed) in the round.
   */
  rateAt50: number | undefined;
  rpsAt50: number | undefined;
  p50At50: number | undefined;
  p99At50: number | undefined;
  /** How late the paced sender was at worst (ms). */
  sendLagAt50?: number;
  rssMiB: number | undefined;
  readyMs: number;
  total: number;
  toolErrors: number;
  bad: number;
  firstBad?: string;
  error?: string;
}

export interface ModeResult {
  tag: string;
  title: string;
  server: string;
  era: string;
  tool: string;
  /** What the call does, when it is not plain. */
  call?: string;
  /** Medians over the rounds. */
  rps: number;
  /** Server CPU per request at saturation (µs, user + system): robust to a busy machine. */
  cpuUsPerReq: number;
  p50: number;
  p99: number;
  p50At50: number;
  p99At50: number;
  /** The paced sender's worst lateness over the rounds, ms (lib/paced.ts: its p99 includes it). */
  sendLagAt50?: number;
  rssMiB: number;
  /** Median spawn → ready, ms. */
  readyMs: number;
  /** True when some answer was not a 2xx JSON-RPC result, or the server failed. */
  failed: boolean;
  failure?: string;
  /** Answers that were results with isError: true (e.g. a handler that is still a stub): they fail the mode. */
  toolErrors: number;
  rounds: RoundResult[];
}

/**
 * A fresh server for `mode`, its credentials, and the request every load sends, checked once: the
 * first call must be a JSON-RPC result. The server is stopped again when this fails.
 */
async function startMode(mode: Mode, ctx: ModeContext, name: string) {
  const server = await launch({ kind: mode.server, env: mode.env?.(ctx) ?? {}, dir: ctx.dir, name });
  try {
    const headers = (await mode.credentials?.(server.base, ctx)) ?? {};
    const request = toolCall(mode.era, mode.tool.name, mode.tool.arguments, headers);
    const probe = await send(server.base, request);
    if (probe.status !== 200 || verdict(probe.body) !== "ok")
      throw new Error(`the first call was not a result: ${probe.status} ${probe.body.slice(0, 300)}`);
    return { server, request };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/** The SDK v2 baseline of each era: (a), whose capacity sets the era's fixed load. */
const isBaseline = (mode: Mode) => mode.server === "baseline-v2";

async function runMode(
  mode: Mode,
  ctx: ModeContext,
  options: ThroughputOptions,
  rate: number | undefined,
  round: number,
) {
  const { server, request } = await startMode(mode, ctx, `${mode.key.replace(/[@]/g, "_")}-r${round}`);
  try {
    const base = { base: server.base, request, connections: options.connections };
    if (options.warmupSec > 0) await runLoad({ ...base, durationSec: options.warmupSec });
    const cpuBefore = server.cpuMs();
    const sat = await runLoad({ ...base, durationSec: options.saturationSec });
    const cpuAfter = server.cpuMs();
    const cpuUsPerReq =
      cpuBefore !== undefined && cpuAfter !== undefined && sat.total > 0
        ? ((cpuAfter - cpuBefore) * 1000) / sat.total
        : undefined;
    // (a) sets its era's load from its own saturation; every other mode takes it from (a).
    const offered = isBaseline(mode) ? sat.rps / 2 : rate;
    const fixed =
      offered !== undefined && offered > 0
        ? await runPaced({ ...base, durationSec: options.fixedSec, rate: offered, preRollSec: 0.1 })
        : undefined;
    const result: RoundResult = {
      rps: sat.rps,
      cpuUsPerReq,
      p50: sat.p50,
      p99: sat.p99,
      rateAt50: fixed?.offered,
      rpsAt50: fixed?.rps,
      p50At50: fixed?.p50,
      p99At50: fixed?.p99,
      ...(fixed ? { sendLagAt50: fixed.maxSendLagMs } : {}),
      rssMiB: server.rssMiB(),
      readyMs: server.readyMs,
      total: sat.total + (fixed?.total ?? 0),
      toolErrors: sat.toolErrors + (fixed?.toolErrors ?? 0),
      bad: sat.bad + (fixed?.bad ?? 0),
      ...((sat.firstBad ?? fixed?.firstBad) ? { firstBad: sat.firstBad ?? fixed?.firstBad } : {}),
    };
    return result;
  } finally {
    await server.stop();
  }
}

/**
 * The order of a round: the SDK v2 baselines first (their capacity sets their era's fixed load), the
 * others in MODES order, reversed in even rounds, so neither side of a ratio always runs first.
 * (Rotating the order as well split a pair across the end of the list.)
 */
function roundOrder(modes: Mode[], round: number): Mode[] {
  const first = modes.filter(isBaseline);
  const rest = modes.filter((m) => !isBaseline(m));
  return [...first, ...(round % 2 === 0 ? rest.reverse() : rest)];
}

export async function runThroughput(ctx: ModeContext, options: ThroughputOptions): Promise<Record<string, ModeResult>> {
  const modes = MODES.filter((m) => (options.only ? options.only.includes(m.key) : !m.onDemand));
  const perMode = new Map<string, RoundResult[]>(modes.map((m) => [m.key, []]));
  for (let round = 1; round <= options.rounds; round++) {
    // The 50 % load of every mode is half of this round's SDK v2 baseline capacity in the mode's era;
    // without that baseline (not run, or failed) the mode gets no fixed load rather than another basis.
    const rates = new Map<string, number>();
    for (const mode of roundOrder(modes, round)) {
      // `--only` names the modes to study: those run every round, informational or not.
      if (mode.once && round > 1 && !options.only) continue;
      let result: RoundResult;
      try {
        result = await runMode(mode, ctx, options, rates.get(mode.era), round);
      } catch (error) {
        result = {
          rps: 0,
          cpuUsPerReq: undefined,
          p50: 0,
          p99: 0,
          rateAt50: undefined,
          rpsAt50: undefined,
          p50At50: undefined,
          p99At50: undefined,
          rssMiB: undefined,
          readyMs: 0,
          total: 0,
          toolErrors: 0,
          bad: 1,
          error: (error as Error).message,
        };
      }
      if (isBaseline(mode) && !result.error && result.bad === 0) rates.set(mode.era, result.rps / 2);
      perMode.get(mode.key)?.push(result);
      options.log(
        `  round ${round} ${mode.key.padEnd(24)} ${result.error ? `FAILED: ${result.error}` : `${result.rps.toFixed(0).padStart(6)} req/s  ${result.cpuUsPerReq?.toFixed(0).padStart(5)} µs CPU/req  p50 ${result.p50} ms  p99 ${result.p99} ms  ${result.rateAt50 === undefined ? "no fixed load (no (a) of this era in the round)" : `@${result.rateAt50.toFixed(0)}/s p50 ${result.p50At50?.toFixed(2)} p99 ${result.p99At50?.toFixed(2)} ms`}  rss ${result.rssMiB?.toFixed(0)} MiB${result.bad ? `  BAD ${result.bad}: ${result.firstBad ?? ""}` : ""}`}`,
      );
    }
  }
  const out: Record<string, ModeResult> = {};
  for (const mode of modes) {
    const rounds = perMode.get(mode.key) ?? [];
    const good = rounds.filter((r) => !r.error);
    const failedRound = rounds.find((r) => r.error || r.bad > 0);
    const m = (pick: (r: RoundResult) => number | undefined) =>
      median(good.map(pick).filter((v): v is number => v !== undefined));
    out[mode.key] = {
      tag: mode.tag,
      title: mode.title,
      server: mode.server,
      era: mode.era,
      tool: mode.tool.name,
      ...(mode.tool.describe ? { call: mode.tool.describe } : {}),
      rps: m((r) => r.rps),
      cpuUsPerReq: m((r) => r.cpuUsPerReq),
      p50: m((r) => r.p50),
      p99: m((r) => r.p99),
      p50At50: m((r) => r.p50At50),
      p99At50: m((r) => r.p99At50),
      ...(good.some((r) => r.sendLagAt50 !== undefined)
        ? { sendLagAt50: Math.max(...good.map((r) => r.sendLagAt50 ?? 0)) }
        : {}),
      rssMiB: m((r) => r.rssMiB),
      readyMs: m((r) => r.readyMs),
      failed: failedRound !== undefined,
      ...(failedRound
        ? { failure: failedRound.error ?? `${failedRound.bad} bad answer(s): ${failedRound.firstBad ?? "?"}` }
        : {}),
      toolErrors: rounds.reduce((s, r) => s + r.toolErrors, 0),
      rounds,
    };
  }
  return out;
}
