/**
 * A/B of two throughput modes, each in a fresh server process per round, loaded *alternately* in
 * short slices, so both see the same moments of a noisy machine. A ratio measured by the full run
 * compares processes that ran seconds apart, and on a shared 2-core VM consecutive processes of the
 * same code differ by up to ±15 % (bench/README.md); here two live processes take turns, each idle
 * only for the other's slice (seconds: too short for V8 to drop its warm-up).
 *
 *   npx tsx bench/paired.ts --modes anonymous,oauth2 [--rounds 3] [--pairs 5] [--slice 2] [--warmup 4]
 *                           [--env-a K=V,…] [--env-b K=V,…] [--connections 50] [--log-level info]
 *                           [--together]
 *
 * `--modes` takes two keys of lib/modes.ts (the same key twice measures the noise floor: A/A);
 * `--env-a`/`--env-b` add settings to one side (e.g. `--modes anonymous,anonymous --env-b LOG_LEVEL=warn`);
 * `--log-level` (default info) is the LOG_LEVEL of the toolgate servers (an `--env-a`/`--env-b` LOG_LEVEL wins).
 * Per pair of slices the figure is A's CPU per request ÷ B's: B's throughput relative to A's at
 * saturation (for `anonymous,oauth2`, the (c)/(b) of the full run). Prints each pair, each round's
 * median and the median over rounds. Nothing is written: a tool for looking closer, not a result.
 *
 * `--together` loads both servers at the same time in every slice instead (lib/alternate.ts
 * `together`): they share the server core, so a moment of the slow machine falls on both. Its rounds
 * agreed within ±1.5 % for (c)/(b) where alternating rounds spread ±5 % (bench/README.md); CPU per
 * request reads ~10–30 % higher than alone, for both sides.
 */
import { alternate, type Side, together } from "./lib/alternate.js";
import { buildToolgate } from "./lib/build.js";
import { cli, usageError, wholeNumber } from "./lib/cli.js";
import { MODES, type Mode, prepareModeContext } from "./lib/modes.js";
import { pinSelf, scratchDir } from "./lib/proc.js";
import { createTinyCodebase } from "./lib/project.js";
import { toolCall } from "./lib/requests.js";
import { type Launched, launch, useBuild } from "./lib/servers.js";
import { median } from "./lib/stats.js";

const args = cli(import.meta.url, {
  modes: { type: "string", default: "anonymous,oauth2" },
  rounds: { type: "string", default: "3" },
  pairs: { type: "string", default: "5" },
  slice: { type: "string", default: "2" },
  warmup: { type: "string", default: "4" },
  connections: { type: "string", default: "50" },
  "env-a": { type: "string", default: "" },
  "env-b": { type: "string", default: "" },
  "log-level": { type: "string", default: "info" },
  together: { type: "boolean", default: false },
});

function envList(name: string, value: string | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const item of (value ?? "").split(",").filter(Boolean)) {
    const eq = item.indexOf("=");
    if (eq <= 0) usageError(`--${name} ${JSON.stringify(value)}: takes KEY=VALUE,… (${item} is not)`);
    env[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return env;
}

const keys = (args.modes ?? "").split(",");
const modes = keys.map((key) => MODES.find((m) => m.key === key));
if (keys.length !== 2 || modes.some((m) => !m))
  usageError(`--modes ${JSON.stringify(args.modes)}: takes two of ${MODES.map((m) => m.key).join(", ")}`);
const [modeA, modeB] = modes as [Mode, Mode];
// Whole numbers, checked before anything starts (lib/cli.ts): autocannon runs whole seconds.
const rounds = wholeNumber("rounds", args.rounds, 1);
const pairs = wholeNumber("pairs", args.pairs, 1);
const slice = wholeNumber("slice", args.slice, 1);
const warmup = wholeNumber("warmup", args.warmup, 2);
const connections = wholeNumber("connections", args.connections, 1);
const extra = [envList("env-a", args["env-a"]), envList("env-b", args["env-b"])];
const label = (i: number) => {
  const mode = i === 0 ? modeA : modeB;
  const env = Object.entries(extra[i] ?? {});
  return `${i === 0 ? "A" : "B"} ${mode.key}${env.length ? ` (${env.map(([k, v]) => `${k}=${v}`).join(" ")})` : ""}`;
};

pinSelf();
const dir = scratchDir("toolgate-paired-");
const codebase = await createTinyCodebase();
const ctx = await prepareModeContext(dir, codebase, args["log-level"] ?? "info");
useBuild(await buildToolgate(dir));
console.log(
  `${label(0)}  vs  ${label(1)}: ${rounds} round(s) × ${pairs} ${args.together ? "slice(s) loaded together" : "pair(s)"} of ${slice} s slices`,
);

const roundMedians: number[] = [];
const rps: [number[], number[]] = [[], []];
try {
  for (let round = 0; round < rounds; round++) {
    const servers: Launched[] = [];
    try {
      // The side started and loaded first alternates from round to round.
      const first = round % 2 === 0 ? 0 : 1;
      const started: Partial<Record<0 | 1, Side>> = {};
      for (const i of first === 0 ? ([0, 1] as const) : ([1, 0] as const)) {
        const mode = i === 0 ? modeA : modeB;
        const server = await launch({
          kind: mode.server,
          env: { ...mode.env?.(ctx), ...extra[i] },
          dir,
          name: `${mode.key}-${i}-r${round + 1}`,
        });
        servers.push(server);
        const headers = (await mode.credentials?.(server.base, ctx)) ?? {};
        started[i] = { server, request: toolCall(mode.era, mode.tool.name, mode.tool.arguments, headers) };
      }
      const measured = await (args.together ? together : alternate)([started[0] as Side, started[1] as Side], {
        pairs,
        sliceSec: slice,
        warmupSec: warmup,
        connections,
        first,
        label: `round ${round + 1}`,
      });
      const shown = measured.pairRatios.map((r, p) => {
        const [a, b] = [0, 1].map((side) => measured.slices.filter((s) => s.side === side)[p]?.cpuUsPerReq ?? NaN);
        return `${r.toFixed(2)} (${a?.toFixed(0)}/${b?.toFixed(0)} µs)`;
      });
      roundMedians.push(measured.ratio);
      rps[0].push(measured.rps[0]);
      rps[1].push(measured.rps[1]);
      console.log(`round ${round + 1}: B/A ${measured.ratio.toFixed(3)}   pairs: ${shown.join(", ")}`);
    } finally {
      for (const server of servers) await server.stop();
    }
  }
} finally {
  await ctx.close();
}
console.log(
  `B/A over rounds: ${median(roundMedians).toFixed(3)} (${roundMedians.map((r) => r.toFixed(3)).join(", ")}); ` +
    `req/s medians A ${median(rps[0]).toFixed(0)}, B ${median(rps[1]).toFixed(0)}`,
);
process.exit(0);
