/**
 * Part 1: tools/call throughput and latency. Rounds of every mode, interleaved, a fresh server
 * process per mode and round. A round starts every mode's server, warms each one up alone, then
 * saturates them one at a time in short slices — every mode once in the round's order, then once
 * in the reverse order — and finally runs each at a fixed offered load of 50 % of this round's SDK
 * v2 baseline capacity; resident memory is read last, then every server of the round is stopped.
 *
 * A server is always loaded alone on the server core (the others idle), as the issue defines the
 * measurement. The slices make a round's ratios robust on a busy machine: two modes are measured
 * within seconds of each other, in both orders, instead of a minute apart — runs minutes apart
 * moved req/s by ±30 % on the 2-core VM, and measuring two servers at once on one core (the
 * previous design of the target ratios) cut the total rate 2–3.5× through contention and
 * magnified differences in footprint. The warm-up is long because a fresh Node server reaches its
 * steady rate only after 3–5 s under load (JIT): with 1 s of warm-up a 3 s run averaged ~60 % of it.
 */
import { runLoad } from "../lib/load.js";
import { MODES, type Mode, type ModeContext } from "../lib/modes.js";
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
  p50: number;
  p99: number;
  /** At the fixed offered load. */
  rateAt50: number;
  rpsAt50: number;
  p50At50: number;
  p99At50: number;
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
  rssMiB: number;
  /** Median spawn → ready, ms. */
  readyMs: number;
  /** True when some answer was not a 2xx JSON-RPC result, or the server failed. */
  failed: boolean;
  failure?: string;
  /** Answers that were results with isError: true (e.g. a handler that is still a stub). */
  toolErrors: number;
  rounds: RoundResult[];
}

/**
 * A fresh server for `mode`, its credentials, and the request every load sends, checked once: the
 * first call must be a JSON-RPC result. The server is stopped again when this fails.
 */
export async function startMode(mode: Mode, ctx: ModeContext, name: string) {
  const server = await launch({ kind: mode.server, env: mode.env?.(ctx) ?? {}, dir: ctx.dir, name });
  try {
    const headers = (await mode.credentials?.(server.base, ctx)) ?? {};
    const request = toolCall(mode.era, mode.tool.name, mode.tool.arguments, headers);
    const probe = await send(server.base, request);
    if (probe.status !== 200 || verdict(probe.body) === "bad")
      throw new Error(`the first call was not a result: ${probe.status} ${probe.body.slice(0, 300)}`);
    return { server, request };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/**
 * The order of a round: the SDK v2 baseline first (its capacity sets the fixed load), the others
 * rotated by one place per round, so no mode always runs right after the baseline or last — on a
 * busy machine the place in a round alone moved req/s by tens of percent.
 */
function roundOrder(modes: Mode[], round: number): Mode[] {
  const first = modes.filter((m) => m.key === "baseline");
  const rest = modes.filter((m) => m.key !== "baseline");
  const shift = rest.length === 0 ? 0 : (round - 1) % rest.length;
  return [...first, ...rest.slice(shift), ...rest.slice(0, shift)];
}

/** What one mode gathers during a round. */
interface Live {
  mode: Mode;
  server: Awaited<ReturnType<typeof startMode>>["server"];
  request: Awaited<ReturnType<typeof startMode>>["request"];
  answers: number;
  seconds: number;
  cpuMs: number;
  cpuKnown: boolean;
  p50: number[];
  p99: number[];
  toolErrors: number;
  bad: number;
  firstBad?: string;
}

const failedRound = (error: string): RoundResult => ({
  rps: 0,
  cpuUsPerReq: undefined,
  p50: 0,
  p99: 0,
  rateAt50: 0,
  rpsAt50: 0,
  p50At50: 0,
  p99At50: 0,
  rssMiB: undefined,
  readyMs: 0,
  total: 0,
  toolErrors: 0,
  bad: 1,
  error,
});

/** Unmeasured load before each slice of a server that idled while the others ran. */
const REWARM_SEC = 1;

const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : 0);

export async function runThroughput(ctx: ModeContext, options: ThroughputOptions): Promise<Record<string, ModeResult>> {
  const modes = MODES.filter((m) => !options.only || options.only.includes(m.key));
  const perMode = new Map<string, RoundResult[]>(modes.map((m) => [m.key, []]));
  const slices = Math.max(1, Math.round(options.saturationSec / 2)) * 2;
  const sliceSec = options.saturationSec / slices;
  for (let round = 1; round <= options.rounds; round++) {
    const order = roundOrder(modes, round).filter((m) => !(m.once && round > 1));
    const live: Live[] = [];
    const results = new Map<string, RoundResult>();
    try {
      for (const mode of order) {
        try {
          const started = await startMode(mode, ctx, `${mode.key.replace(/[@]/g, "_")}-r${round}`);
          live.push({
            mode,
            ...started,
            answers: 0,
            seconds: 0,
            cpuMs: 0,
            cpuKnown: true,
            p50: [],
            p99: [],
            toolErrors: 0,
            bad: 0,
          });
        } catch (error) {
          results.set(mode.key, failedRound((error as Error).message));
        }
      }
      const load = (l: Live, durationSec: number, overallRate?: number) =>
        runLoad({
          base: l.server.base,
          request: l.request,
          connections: options.connections,
          durationSec,
          ...(overallRate !== undefined ? { overallRate } : {}),
        });
      const count = (l: Live, run: Awaited<ReturnType<typeof load>>) => {
        l.toolErrors += run.toolErrors;
        l.bad += run.bad;
        l.firstBad ??= run.firstBad;
      };
      for (const l of live) if (options.warmupSec > 0) count(l, await load(l, options.warmupSec));
      // Saturation in slices: the round's order, then the reverse, and so on. A server that idled
      // while the others ran is loaded for a second, unmeasured, before each slice (after tens of
      // seconds idle V8 shrinks the young generation: the first second back ran slower, and the
      // modes warmed up last in a round measured ~15 % faster than the same server warmed first).
      const saturate = async (l: Live) => {
        if (live.length > 1) count(l, await load(l, REWARM_SEC));
        const before = l.server.cpuMs();
        const run = await load(l, sliceSec);
        const after = l.server.cpuMs();
        count(l, run);
        l.answers += run.total;
        l.seconds += run.durationSec;
        if (before === undefined || after === undefined) l.cpuKnown = false;
        else l.cpuMs += after - before;
        l.p50.push(run.p50);
        l.p99.push(run.p99);
      };
      // The 50 % load of every mode is half of the SDK v2 baseline's (2026-07-28) capacity, from the
      // baseline's slices of this round so far; each fixed run follows the mode's last slice.
      const baseline = live.find((l) => l.mode.key === "baseline");
      const fixedRun = async (l: Live) => {
        const rps = l.seconds > 0 ? l.answers / l.seconds : 0;
        const offered = baseline && baseline.seconds > 0 ? baseline.answers / baseline.seconds / 2 : rps / 2;
        const fixed = await load(l, options.fixedSec, Math.max(1, Math.round(offered)));
        count(l, fixed);
        results.set(l.mode.key, {
          rps,
          cpuUsPerReq: l.cpuKnown && l.answers > 0 ? (l.cpuMs * 1000) / l.answers : undefined,
          p50: mean(l.p50),
          p99: mean(l.p99),
          rateAt50: offered,
          rpsAt50: fixed.rps,
          p50At50: fixed.p50,
          p99At50: fixed.p99,
          rssMiB: l.server.rssMiB(),
          readyMs: l.server.readyMs,
          total: l.answers + fixed.total,
          toolErrors: l.toolErrors,
          bad: l.bad,
          ...(l.firstBad !== undefined ? { firstBad: l.firstBad } : {}),
        });
      };
      for (let slice = 0; slice < slices; slice++) {
        const last = slice === slices - 1;
        for (const l of slice % 2 === 0 ? live : [...live].reverse()) {
          await saturate(l);
          if (last) await fixedRun(l);
        }
      }
    } catch (error) {
      for (const l of live)
        if (!results.has(l.mode.key)) results.set(l.mode.key, failedRound((error as Error).message));
    } finally {
      for (const l of [...live].reverse()) await l.server.stop();
    }
    for (const mode of order) {
      const result = results.get(mode.key) ?? failedRound("not measured");
      perMode.get(mode.key)?.push(result);
      options.log(
        `  round ${round} ${mode.key.padEnd(24)} ${result.error ? `FAILED: ${result.error}` : `${result.rps.toFixed(0).padStart(6)} req/s  ${result.cpuUsPerReq?.toFixed(0).padStart(5)} µs CPU/req  p50 ${result.p50.toFixed(1)} ms  p99 ${result.p99.toFixed(1)} ms  @${result.rateAt50.toFixed(0)}/s p50 ${result.p50At50} p99 ${result.p99At50}  rss ${result.rssMiB?.toFixed(0)} MiB${result.bad ? `  BAD ${result.bad}: ${result.firstBad ?? ""}` : ""}`}`,
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
