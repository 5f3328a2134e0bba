/**
 * What signing in costs a request, measured inside one server process. (c)/(b) compares two fresh
 * processes, and on this kind of machine two processes of the same code differ by up to ±15 % per
 * round (bench/README.md, Findings) — more than the 5 % the target is about. Here one toolgate runs
 * with `AUTH_MODE=optional` (the echo tool allows noauth) and is loaded alternately with the same
 * tools/call with and without the bearer token of (c): the token's bytes, the credential step, the
 * caller remembered per connection, the decision for a signed-in caller and its longer audit line,
 * against the same request anonymous. Same process, same heap, same JIT state: only the request differs.
 *
 * Per era: start, warm-up with both requests, then `alternations` pairs of slices (the order inside a
 * pair alternates). Each slice: saturation for `sliceSec`, CPU µs per request from /proc. The ratio is
 * the median over pairs of (anonymous CPU per request ÷ signed-in CPU per request): the share of
 * throughput a saturated server keeps when every caller signs in.
 */
import { runLoad } from "../lib/load.js";
import { MODES, type Mode, type ModeContext } from "../lib/modes.js";
import { type Era, LEGACY, MODERN, toolCall } from "../lib/requests.js";
import { launch } from "../lib/servers.js";
import { median } from "../lib/stats.js";

export interface SignInSlice {
  signedIn: boolean;
  rps: number;
  cpuUsPerReq: number;
}

export interface SignInEra {
  era: Era;
  slices: SignInSlice[];
  /** Per pair: anonymous CPU µs/req ÷ signed-in CPU µs/req. */
  pairRatios: number[];
  ratio: number;
  signedInCpuUs: number;
  anonymousCpuUs: number;
}

export interface SignInOptions {
  alternations: number;
  sliceSec: number;
  warmupSec: number;
  connections: number;
  log: (line: string) => void;
}

export async function runSignInCost(ctx: ModeContext, options: SignInOptions): Promise<SignInEra[]> {
  const oauth2 = MODES.find((m) => m.key === "oauth2") as Mode;
  const results: SignInEra[] = [];
  for (const era of [MODERN, LEGACY]) {
    const server = await launch({
      kind: "toolgate",
      env: { ...(oauth2.env?.(ctx) ?? {}), AUTH_MODE: "optional" },
      dir: ctx.dir,
      name: `sign-in-${era}`,
    });
    try {
      const headers = (await oauth2.credentials?.(server.base, ctx)) ?? {};
      const requests = {
        signedIn: toolCall(era, oauth2.tool.name, oauth2.tool.arguments, headers),
        anonymous: toolCall(era, oauth2.tool.name, oauth2.tool.arguments, {}),
      };
      const load = async (signedIn: boolean, durationSec: number) => {
        const before = server.cpuMs();
        const run = await runLoad({
          base: server.base,
          request: signedIn ? requests.signedIn : requests.anonymous,
          connections: options.connections,
          durationSec,
        });
        const after = server.cpuMs();
        if (run.bad > 0) throw new Error(`sign-in cost (${era}): bad answers, first: ${run.firstBad}`);
        const cpuUsPerReq =
          before !== undefined && after !== undefined && run.total > 0 ? ((after - before) * 1000) / run.total : NaN;
        return { signedIn, rps: run.rps, cpuUsPerReq };
      };
      // A fresh server needs 3–5 s under load to reach its steady rate: never less, even in --quick.
      const half = Math.max(2, Math.round(options.warmupSec / 2));
      await load(true, half);
      await load(false, half);
      const slices: SignInSlice[] = [];
      const pairRatios: number[] = [];
      for (let i = 0; i < options.alternations; i++) {
        const first = await load(i % 2 === 0, options.sliceSec);
        const second = await load(i % 2 !== 0, options.sliceSec);
        slices.push(first, second);
        const [signedIn, anonymous] = first.signedIn ? [first, second] : [second, first];
        pairRatios.push(anonymous.cpuUsPerReq / signedIn.cpuUsPerReq);
      }
      const cpu = (signedIn: boolean) =>
        median(slices.filter((s) => s.signedIn === signedIn).map((s) => s.cpuUsPerReq));
      const result: SignInEra = {
        era,
        slices,
        pairRatios,
        ratio: median(pairRatios),
        signedInCpuUs: cpu(true),
        anonymousCpuUs: cpu(false),
      };
      options.log(
        `  ${era}: signed in ${result.signedInCpuUs.toFixed(0)} µs/req, anonymous ${result.anonymousCpuUs.toFixed(0)} µs/req; ratio ${result.ratio.toFixed(3)} (pairs: ${pairRatios.map((r) => r.toFixed(2)).join(", ")})`,
      );
      results.push(result);
    } finally {
      await server.stop();
    }
  }
  return results;
}
