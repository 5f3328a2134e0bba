/**
 * (c)/(b) measured with the two modes loaded alternately. The sequential rounds of part 1 measure
 * each mode in a process of its own, seconds apart, and on this kind of machine two consecutive
 * processes of the same code differ by up to ±15 % — more than the 5 % the target is about
 * (bench/README.md, Findings). Here, per era, a fresh (b) (`AUTH_MODE=anonymous`) and a fresh (c)
 * (`AUTH_MODE=oauth2`, bearer token from the development AS) run side by side and take turns under
 * load, so both see the same moments of the machine; neither idles longer than one slice (too short
 * for V8 to drop its warm-up). Two processes of the same mode measured this way agree within ±4 %
 * (`npx tsx bench/paired.ts --modes anonymous,anonymous`).
 *
 * Per era, `rounds` times: start both, then lib/alternate.ts: warm-up with both, `alternations` pairs
 * of slices (the order inside a pair alternates), each slice saturation for `sliceSec` with CPU µs per
 * request from /proc; stop both. A round's ratio is the median over its pairs of (anonymous CPU per
 * request ÷ signed-in CPU per request): the share of throughput a saturated server keeps when every
 * caller signs in. The era's ratio is the median over rounds (the mean, for two). More than one round:
 * pairs of fresh processes differ from pair to pair by more than slices within a pair do
 * (`bench/paired.ts`, bench/README.md), so one pair of processes decided the verdict by lot.
 */
import { type AlternateResult, alternate } from "../lib/alternate.js";
import { MODES, type Mode, type ModeContext } from "../lib/modes.js";
import { type Era, LEGACY, MODERN, toolCall } from "../lib/requests.js";
import { type Launched, launch } from "../lib/servers.js";
import { median } from "../lib/stats.js";

export interface SignInSlice {
  signedIn: boolean;
  rps: number;
  cpuUsPerReq: number;
}

export interface SignInEra {
  era: Era;
  slices: SignInSlice[];
  /** Per pair, round after round: anonymous CPU µs/req ÷ signed-in CPU µs/req. */
  pairRatios: number[];
  /** Per round (a fresh pair of processes): the median of its pairs. Absent in results saved before rounds. */
  roundRatios?: number[];
  /** The median of `roundRatios`. */
  ratio: number;
  signedInCpuUs: number;
  anonymousCpuUs: number;
}

export interface SignInOptions {
  /** The protocol eras to measure (default both; `--quick` smoke-tests one). */
  eras?: readonly Era[];
  /** Fresh pairs of processes per era. */
  rounds: number;
  /** Pairs of slices per round. */
  alternations: number;
  sliceSec: number;
  warmupSec: number;
  connections: number;
  log: (line: string) => void;
}

export async function runSignInCost(ctx: ModeContext, options: SignInOptions): Promise<SignInEra[]> {
  const results: SignInEra[] = [];
  for (const era of options.eras ?? [MODERN, LEGACY]) {
    const rounds: AlternateResult[] = [];
    for (let round = 1; round <= options.rounds; round++) rounds.push(await runRound(ctx, options, era, round));
    const roundRatios = rounds.map((r) => r.ratio);
    const result: SignInEra = {
      era,
      slices: rounds.flatMap((r) =>
        r.slices.map(({ side, rps, cpuUsPerReq }) => ({ signedIn: side === 1, rps, cpuUsPerReq })),
      ),
      pairRatios: rounds.flatMap((r) => r.pairRatios),
      roundRatios,
      ratio: median(roundRatios),
      signedInCpuUs: median(rounds.map((r) => r.cpuUs[1])),
      anonymousCpuUs: median(rounds.map((r) => r.cpuUs[0])),
    };
    options.log(
      `  ${era}: signed in ${result.signedInCpuUs.toFixed(0)} µs/req, anonymous ${result.anonymousCpuUs.toFixed(0)} µs/req; ratio ${result.ratio.toFixed(3)} (rounds: ${roundRatios.map((r) => r.toFixed(3)).join(", ")})`,
    );
    results.push(result);
  }
  return results;
}

/** One round: a fresh (b) and a fresh (c), loaded alternately, stopped. */
async function runRound(ctx: ModeContext, options: SignInOptions, era: Era, round: number): Promise<AlternateResult> {
  const oauth2 = MODES.find((m) => m.key === "oauth2") as Mode;
  const anonymous = MODES.find((m) => m.key === (era === MODERN ? "anonymous" : `anonymous@${era}`)) as Mode;
  const servers: Launched[] = [];
  try {
    for (const [name, mode] of [
      ["anonymous", anonymous],
      ["oauth2", oauth2],
    ] as const)
      servers.push(
        await launch({
          kind: "toolgate",
          env: mode.env?.(ctx) ?? {},
          dir: ctx.dir,
          name: `alternate-${name}-${era}-${round}`,
        }),
      );
    const [anonymousServer, signedInServer] = servers as [Launched, Launched];
    const headers = (await oauth2.credentials?.(signedInServer.base, ctx)) ?? {};
    const call = (h: Record<string, string>) => toolCall(era, oauth2.tool.name, oauth2.tool.arguments, h);
    // The full run gives each server 4 s of warm-up in turns of 2 s; --quick (a smoke run) one turn.
    const measured = await alternate(
      [
        { server: anonymousServer, request: call({}) },
        { server: signedInServer, request: call(headers) },
      ],
      {
        pairs: options.alternations,
        sliceSec: options.sliceSec,
        warmupSec: options.warmupSec,
        connections: options.connections,
        first: 1,
        label: `(c)/(b) alternately (${era}, round ${round})`,
      },
    );
    options.log(
      `    round ${round}: ratio ${measured.ratio.toFixed(3)} (pairs: ${measured.pairRatios.map((r) => r.toFixed(2)).join(", ")})`,
    );
    return measured;
  } finally {
    for (const server of servers) await server.stop();
  }
}
