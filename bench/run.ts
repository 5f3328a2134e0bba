/**
 * `npm run bench` — toolgate's benchmark harness (issue 13).
 *
 *   npm run bench                      full run (≤ 6 min on 2 cores)
 *   npm run bench -- --quick           ~1 min smoke run (one short round, small codegen sizes)
 *   options: --rounds N  --saturation S  --fixed S  --warmup S  --connections N
 *            --only baseline,anonymous,…   --skip throughput,signin,attack,codegen,floor
 *            --codegen-sizes 10,100,1000,10000   --log-level info   --no-docs   --keep
 *            --source (run the servers' TypeScript through tsx instead of compiling them first)
 *            --report-only (rewrite docs/performance.md and the chart from bench/results/latest.json)
 *
 * A full run (no options but --no-docs/--keep) writes bench/results/latest.json, prints a table,
 * rewrites docs/performance.md and docs/performance-throughput.svg; any other run writes
 * bench/results/partial.json and prints its table, leaving the last full run's files alone. Codegen
 * sizes beyond 10/100/1000 are kept in bench/results/codegen-separate.json and docs/performance.md
 * only by their run of their own, `--skip throughput,signin,attack,floor --codegen-sizes N` and no
 * other option but --keep (bench/README.md).
 * Servers run on 127.0.0.1 pinned to core 0, the load generator
 * (autocannon, in this process) on core 1; every child is killed on exit, error or Ctrl-C.
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { buildToolgate } from "./lib/build.js";
import { cli, namesFrom, usageError, wholeNumber } from "./lib/cli.js";
import { commit, machineInfo, versions } from "./lib/machine.js";
import { MODES, prepareModeContext } from "./lib/modes.js";
import { warmPaced } from "./lib/paced.js";
import { canPin, forget, pinSelf, REPO, scratchDir, unlessStopping } from "./lib/proc.js";
import { BASELINE_TOOL, createTinyCodebase, TOOLGATE_TOOL } from "./lib/project.js";
import {
  checkTargets,
  computeRatios,
  consoleReport,
  markdownReport,
  type Results,
  type SeparateCodegen,
  throughputSvg,
} from "./lib/report.js";
import { MODERN } from "./lib/requests.js";
import { useBuild } from "./lib/servers.js";
import { runAttack } from "./scenarios/attack.js";
import { runCodegen } from "./scenarios/codegen.js";
import { runFloor } from "./scenarios/floor.js";
import { runSignInCost } from "./scenarios/sign-in.js";
import { runThroughput } from "./scenarios/throughput.js";

const args = cli(import.meta.url, {
  quick: { type: "boolean", default: false },
  rounds: { type: "string" },
  warmup: { type: "string" },
  saturation: { type: "string" },
  fixed: { type: "string" },
  connections: { type: "string", default: "50" },
  only: { type: "string" },
  skip: { type: "string", default: "" },
  "codegen-sizes": { type: "string" },
  "log-level": { type: "string", default: "info" },
  "no-docs": { type: "boolean", default: false },
  keep: { type: "boolean", default: false },
  source: { type: "boolean", default: false },
  "report-only": { type: "boolean", default: false },
});

/** The full run's default codegen sizes; others (10,000) are measured by runs of their own. */
const DEFAULT_CODEGEN_SIZES = [10, 100, 1000];
const SEPARATE_FILE = join(REPO, "bench", "results", "codegen-separate.json");
const readSeparate = async (): Promise<SeparateCodegen | undefined> =>
  readFile(SEPARATE_FILE, "utf8").then(
    (text) => JSON.parse(text) as SeparateCodegen,
    (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return undefined;
      throw error;
    },
  );

const quick = args.quick;
/**
 * Only a full run with the default settings replaces the committed results (latest.json, the docs
 * and the chart: docs/performance.md holds the last *full* run). Any other run — --quick, --only,
 * --skip, other sizes, rounds or durations — writes bench/results/partial.json (not tracked) instead.
 */
const full =
  !quick &&
  (["only", "skip", "rounds", "warmup", "saturation", "fixed", "codegen-sizes"] as const).every((key) => !args[key]) &&
  args.connections === "50" &&
  args["log-level"] === "info" &&
  !args.source;
// Every value is checked before anything starts: `Number("abc")` ran with NaN, `--rounds 0` ran
// nothing, and a typo in --skip quietly ran the part.
const settings = {
  rounds: wholeNumber("rounds", args.rounds, 1, quick ? 1 : 3),
  // A fresh Node server reaches its steady rate only after 3–5 s under load (the JIT): after 1 s of
  // warm-up a 3 s run averaged ~60 % of it (bench/README.md).
  warmupSec: wholeNumber("warmup", args.warmup, 0, quick ? 1 : 4),
  saturationSec: wholeNumber("saturation", args.saturation, 1, quick ? 1 : 3),
  fixedSec: wholeNumber("fixed", args.fixed, 1, 1),
  connections: wholeNumber("connections", args.connections, 1, 50),
};
/** (c)/(b) with the two modes loaded alternately: two fresh pairs of processes per era, three pairs of 2 s slices each (~45 s per era with the warm-ups). */
const SIGN_IN = { rounds: 2, alternations: 3, sliceSec: 2 };
const codegenSizes =
  args["codegen-sizes"] === undefined
    ? quick
      ? [10]
      : DEFAULT_CODEGEN_SIZES
    : args["codegen-sizes"]
        .split(",")
        .map((size) =>
          /^\d+$/.test(size) && Number(size) >= 1
            ? Number(size)
            : usageError(`--codegen-sizes "${args["codegen-sizes"]}": takes whole numbers ≥ 1, comma-separated`),
        );
const PARTS = ["throughput", "signin", "attack", "codegen", "floor"] as const;
const skip = new Set(namesFrom("skip", args.skip, PARTS));
const MODE_KEYS = MODES.map((m) => m.key);
const only = args.only === undefined ? undefined : namesFrom("only", args.only, MODE_KEYS);
if (only && !only.length) usageError(`--only "${args.only}": takes one or more of ${MODE_KEYS.join(", ")}`);
/**
 * The run of its own that measures codegen sizes the full run leaves out (bench/README.md): only it
 * keeps them in the tracked bench/results/codegen-separate.json and docs/performance.md, so they
 * come from the documented command — the other parts skipped, nothing else changed. Why not, if not.
 */
const notSeparate = [
  ...(quick ? ["--quick"] : []),
  ...(["throughput", "signin", "attack", "floor"] as const)
    .filter((part) => !skip.has(part))
    .map((part) => `${part} ran`),
  ...(["only", "rounds", "warmup", "saturation", "fixed"] as const).filter((key) => args[key]).map((key) => `--${key}`),
  ...(args.source ? ["--source"] : []),
  ...(args["no-docs"] ? ["--no-docs"] : []),
  ...(args["log-level"] !== "info" ? [`--log-level ${args["log-level"]}`] : []),
  ...(args.connections !== "50" ? [`--connections ${args.connections}`] : []),
];

if (args["report-only"]) {
  const saved = JSON.parse(await readFile(join(REPO, "bench", "results", "latest.json"), "utf8")) as Results;
  await writeFile(join(REPO, "docs", "performance.md"), markdownReport(saved, await readSeparate()));
  await writeFile(join(REPO, "docs", "performance-throughput.svg"), throughputSvg(saved));
  console.log(
    `${consoleReport(saved)}\n\nrewrote docs/performance.md and docs/performance-throughput.svg from latest.json`,
  );
  process.exit(0);
}

const started = performance.now();
/** Seconds each part took (the whole run must stay within six minutes). */
const partsSec: Record<string, number> = {};
const seconds = (from: number) => Math.round((performance.now() - from) / 100) / 10;
const log = (line: string) => console.log(line);
const machine = machineInfo();
if (!canPin) log("bench: taskset or a second core is missing: server and load generator are NOT pinned");
pinSelf();

const dir = scratchDir("toolgate-bench-");
if (args.keep) forget(dir);
const codebase = await createTinyCodebase();
const logLevel = args["log-level"];
// The fixed-load sender's code optimised meanwhile (lib/paced.ts), before the first measured window.
const warming = skip.has("throughput") ? Promise.resolve() : warmPaced(quick ? 2 : 5);
const ctx = await prepareModeContext(dir, codebase, logLevel);
let build: Awaited<ReturnType<typeof buildToolgate>> | undefined;
if (!args.source) {
  build = await buildToolgate(dir);
  useBuild(build);
  log(`compiled toolgate and the baseline servers in ${(build.ms / 1000).toFixed(1)} s (scratch build, not dist/)`);
  if (build.diagnostics)
    log(`  tsc reported (it emitted anyway):\n${build.diagnostics.split("\n").slice(0, 5).join("\n")}`);
}
await warming;
const command = `npx tsx bench/run.ts${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(" ")}` : ""}`;
log(
  `toolgate bench: ${full ? "full run" : quick ? "quick run" : "partial run (writes bench/results/partial.json)"}, ${settings.rounds} round(s), load average ${machine.loadStart.toFixed(2)}, scratch ${dir}`,
);

const results: Results = {
  run: {
    command,
    quick,
    date: new Date().toISOString(),
    commit: commit(),
    ...settings,
    signInSliceSec: SIGN_IN.sliceSec,
    signInRounds: quick ? 1 : SIGN_IN.rounds,
    logLevel,
    servers: args.source ? "sources through tsx (--source)" : "compiled with tsc into a scratch folder, plain node",
    toolgateTool: `${TOOLGATE_TOOL.name} ${JSON.stringify(TOOLGATE_TOOL.arguments)}: ${TOOLGATE_TOOL.describe}`,
    baselineTool: `${BASELINE_TOOL.name} ${JSON.stringify(BASELINE_TOOL.arguments)}`,
  },
  machine,
  versions: versions(),
  modes: {},
  ratios: {},
  targets: [],
};

try {
  if (!skip.has("throughput")) {
    const partStarted = performance.now();
    log("\n[1/4] tools/call throughput and latency");
    results.modes = await runThroughput(ctx, { ...settings, ...(only ? { only } : {}), log });
    partsSec.throughput = seconds(partStarted);
  }
  if (!skip.has("signin") && !only) {
    const partStarted = performance.now();
    log("\n[1b] (c)/(b) with fresh (b) and (c) servers loaded alternately");
    results.signIn = await runSignInCost(ctx, {
      // --quick is a smoke run: one era, one pair of processes, one pair of slices.
      ...(quick ? { eras: [MODERN] } : {}),
      rounds: quick ? 1 : SIGN_IN.rounds,
      alternations: quick ? 1 : SIGN_IN.alternations,
      sliceSec: SIGN_IN.sliceSec,
      warmupSec: settings.warmupSec,
      connections: settings.connections,
      log,
    }).catch((error: Error) => ({ error: error.message }));
    partsSec.signIn = seconds(partStarted);
  }
  if (!skip.has("attack")) {
    const partStarted = performance.now();
    log("\n[2/4] attack cost");
    results.attack = await runAttack({
      dir,
      durationSec: quick ? 1 : 4,
      connections: settings.connections,
      logLevel,
      log,
    }).catch((error: Error) => ({ error: error.message }));
    partsSec.attack = seconds(partStarted);
  }
  if (!skip.has("codegen")) {
    const partStarted = performance.now();
    log(`\n[3/4] scale: generate for ${codegenSizes.join(", ")} tools`);
    results.codegen = await runCodegen({ sizes: codegenSizes, dir, log, keepProjects: args.keep, build })
      .then((sizes) => ({ sizes }))
      .catch((error: Error) => ({ error: error.message }));
    partsSec.codegen = seconds(partStarted);
  }
  if (!skip.has("floor")) {
    const partStarted = performance.now();
    log("\n[4/4] floor: jose verify on one core");
    results.floor = await runFloor(quick ? 1 : 2).catch((error: Error) => ({ error: error.message }));
    if (!("error" in results.floor))
      log(`  RS256 ${results.floor.rs256.toFixed(0)}/s, ES256 ${results.floor.es256.toFixed(0)}/s`);
    partsSec.floor = seconds(partStarted);
  }
} finally {
  await ctx.close();
  if (!args.keep) await rm(dir, { recursive: true, force: true });
  await rm(codebase, { recursive: true, force: true });
}

// Stopped by a signal: the parts left failed at once; nothing is written (proc.ts exits).
await unlessStopping();
results.machine.loadEnd = loadavg()[0] ?? 0;
results.run.elapsedSec = (performance.now() - started) / 1000;
results.run.partsSec = partsSec;
results.ratios = computeRatios(results.modes);
results.targets = checkTargets(
  results.ratios,
  results.codegen && "sizes" in results.codegen ? results.codegen.sizes : undefined,
  results.modes,
  results.signIn && !("error" in results.signIn) ? results.signIn : undefined,
  results.attack,
);

await mkdir(join(REPO, "bench", "results"), { recursive: true });
const resultsFile = join("bench", "results", full ? "latest.json" : "partial.json");
await writeFile(join(REPO, resultsFile), `${JSON.stringify(results, null, 2)}\n`);
// Sizes the full run leaves out, measured here: kept, with where they came from, for
// docs/performance.md (the same size measured again replaces its row) — by the separate run only.
const separateSizes =
  results.codegen && "sizes" in results.codegen
    ? results.codegen.sizes.filter((s) => !DEFAULT_CODEGEN_SIZES.includes(s.tools) && s.generateMs !== undefined)
    : [];
let notKept = "";
if (separateSizes.length && notSeparate.length)
  notKept = `; the ${separateSizes.map((s) => s.tools).join(", ")}-tool figures are in bench/results/partial.json only, not kept in bench/results/codegen-separate.json (${notSeparate.join(", ")}: not the separate run of bench/README.md)`;
else if (separateSizes.length) {
  const run = { date: results.run.date, commit: results.run.commit, command, loadStart: machine.loadStart };
  const kept = (await readSeparate())?.sizes.filter((s) => !separateSizes.some((n) => n.tools === s.tools)) ?? [];
  const separate: SeparateCodegen = {
    sizes: [...kept, ...separateSizes.map((s) => ({ ...s, run }))].sort((a, b) => a.tools - b.tools),
  };
  await writeFile(SEPARATE_FILE, `${JSON.stringify(separate, null, 2)}\n`);
  log(`kept the ${separateSizes.map((s) => s.tools).join(", ")}-tool figures in bench/results/codegen-separate.json`);
  // The page shows them beside the last full run's figures, which stay as they are.
  const saved = JSON.parse(await readFile(join(REPO, "bench", "results", "latest.json"), "utf8")) as Results;
  await writeFile(join(REPO, "docs", "performance.md"), markdownReport(saved, separate));
  log("rewrote docs/performance.md from latest.json (the last full run) with them");
}
const docs = full && !args["no-docs"];
if (docs) {
  await mkdir(join(REPO, "docs"), { recursive: true });
  await writeFile(join(REPO, "docs", "performance.md"), markdownReport(results, await readSeparate()));
  await writeFile(join(REPO, "docs", "performance-throughput.svg"), throughputSvg(results));
}
log(`\n${consoleReport(results)}`);
log(
  `\nwrote ${resultsFile}${docs ? ", docs/performance.md, docs/performance-throughput.svg" : ""}${full ? "" : " (not a full run: latest.json and docs/performance.md keep the last full run)"} in ${Math.round(results.run.elapsedSec)} s (${Object.entries(
    partsSec,
  )
    .map(([part, sec]) => `${part} ${Math.round(sec)} s`)
    .join(", ")})${args.keep ? `; kept ${dir}` : ""}${notKept}`,
);
process.exit(0);
