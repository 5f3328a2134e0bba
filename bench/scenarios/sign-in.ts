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
 * Per era: start both, warm-up with both, then `alternations` pairs of slices (the order inside a
 * pair alternates). Each slice: saturation for `sliceSec`, CPU µs per request from /proc. The ratio is
 * the median over pairs of (anonymous CPU per request ÷ signed-in CPU per request): the share of
 * throughput a saturated server keeps when every caller signs in.
 */
import { runLoad } from "../lib/load.js";
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
            name: `alternate-${name}-${era}`,
          }),
        );
      const [anonymousServer, signedInServer] = servers as [Launched, Launched];
      const headers = (await oauth2.credentials?.(signedInServer.base, ctx)) ?? {};
      const requests = {
        signedIn: toolCall(era, oauth2.tool.name, oauth2.tool.arguments, headers),
        anonymous: toolCall(era, oauth2.tool.name, oauth2.tool.arguments, {}),
      };
      const load = async (signedIn: boolean, durationSec: number) => {
        const server = signedIn ? signedInServer : anonymousServer;
        const before = server.cpuMs();
        const run = await runLoad({
          base: server.base,
          request: signedIn ? requests.signedIn : requests.anonymous,
          connections: options.connections,
          durationSec,
        });
        const after = server.cpuMs();
        if (run.bad > 0) throw new Error(`(c)/(b) alternately (${era}): bad answers, first: ${run.firstBad}`);
        const cpuUsPerReq =
          before !== undefined && after !== undefined && run.total > 0 ? ((after - before) * 1000) / run.total : NaN;
        return { signedIn, rps: run.rps, cpuUsPerReq };
      };
      // A fresh server needs 3–5 s under load to reach its steady rate: the full run gives each 4 s
      // in turns of 2 s; --quick (a smoke run) one turn.
      for (let s = 0; s < Math.max(2, options.warmupSec); s += 2) {
        await load(true, 2);
        await load(false, 2);
      }
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
      for (const server of servers) await server.stop();
    }
  }
  return results;
}
