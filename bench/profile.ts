/**
 * CPU profiles under load: toolgate (anonymous, and oauth2 with its token cache) and the SDK v2
 * baseline, each server started with `node --cpu-prof`, pinned to core 0, saturated by autocannon
 * on core 1. Only the samples of the measured load window count (no start-up, no shutdown).
 * Prints, and writes to bench/results/profile.md: CPU per request by module group and by module,
 * the top self-time functions, toolgate's own functions by inclusive time, and its hottest source
 * lines (V8 position ticks; this is how the per-request object spreads were found).
 *
 *   npx tsx bench/profile.ts [--seconds 8] [--modes baseline,anonymous,oauth2] [--era 2026-07-28|2025-11-25]
 *                            [--log-level info] [--source] [--keep] [--together]
 * `--log-level` (default info) is the LOG_LEVEL of the toolgate servers. `--together` loads all the
 * servers at once (they share the server core), so that a comparison of their profiles is not one of
 * two moments of the machine: profiled one after the other, the same code (JSON.stringify of the
 * same answer) read 2.2 µs in one process and 3.2 in the next.
 * Servers are compiled first (bench/lib/build.ts), as in `npm run bench`; `--source` runs them through tsx.
 */
import { readFileSync } from "node:fs";
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildToolgate } from "./lib/build.js";
import { cli, usageError, wholeNumber } from "./lib/cli.js";
import {
  analyse,
  type Entry,
  formatSummary,
  type LineEntry,
  loadProfile,
  type ProfileSummary,
} from "./lib/cpuprofile.js";
import { type LoadResult, runLoad } from "./lib/load.js";
import { MODES, type Mode, type ModeContext, prepareModeContext } from "./lib/modes.js";
import { forget, pinSelf, REPO, scratchDir, unlessStopping } from "./lib/proc.js";
import { createTinyCodebase } from "./lib/project.js";
import { type HttpRequest, LEGACY, MODERN, send, toolCall, verdict } from "./lib/requests.js";
import { type Launched, launch, useBuild } from "./lib/servers.js";

const args = cli(import.meta.url, {
  seconds: { type: "string", default: "8" },
  modes: { type: "string", default: "baseline,anonymous,oauth2" },
  era: { type: "string", default: "2026-07-28" },
  "log-level": { type: "string", default: "info" },
  keep: { type: "boolean", default: false },
  source: { type: "boolean", default: false },
  together: { type: "boolean", default: false },
});
// Checked before anything starts (lib/cli.ts): autocannon runs whole seconds; an unknown era or
// mode failed only after the build, with a stack trace.
const seconds = wholeNumber("seconds", args.seconds, 1);
if (args.era !== MODERN && args.era !== LEGACY)
  usageError(`--era ${JSON.stringify(args.era)}: takes ${MODERN} or ${LEGACY}`);
const legacy = args.era === LEGACY;
const unknownModes = args.modes
  .split(",")
  .filter((key) => !MODES.some((m) => m.key === key || (legacy && m.key === `${key}@${LEGACY}`)));
if (unknownModes.length)
  usageError(
    `--modes ${JSON.stringify(args.modes)}: unknown ${unknownModes.join(", ")}; takes ${MODES.map((m) => m.key).join(", ")}`,
  );

/** Coarse groups, to compare stacks that share little code. */
export function groupOf(module: string): string {
  if (module === "(garbage collector)") return "GC";
  if (module.startsWith("src/")) return "toolgate src/";
  if (module.startsWith("generated/")) return "toolgate generated/";
  if (module.startsWith("@modelcontextprotocol/")) return "MCP SDK";
  if (
    /^(pino|sonic-boom|fast-redact|@pinojs\/.*|thread-stream|quick-format-unescaped|atomic-sleep|on-exit-leak-free|fast-safe-stringify)$/.test(
      module,
    )
  )
    return "pino (logging)";
  if (
    /^(express|router|body-parser|raw-body|iconv-lite|type-is|content-type|mime-types|mime-db|media-typer|on-finished|finalhandler|send|qs|debug|ms|depd|setprototypeof|http-errors|statuses|vary|accepts|negotiator|cookie|path-to-regexp|parseurl|encodeurl|escape-html|etag|fresh|range-parser|proxy-addr|forwarded|ipaddr\.js|merge-descriptors|utils-merge|cors|bytes|unpipe|destroy|ee-first|safe-buffer|safer-buffer|content-disposition|serve-static)$/.test(
      module,
    )
  )
    return "express & middleware";
  if (module === "zod") return "zod";
  if (module === "jose") return "jose";
  if (module === "@hono/node-server") return "@hono/node-server";
  if (module.startsWith("node:")) return "node: builtins";
  if (module === "(program)" || module === "(native)") return "native / (program)";
  return module;
}

interface Profiled {
  mode: string;
  requests: number;
  rps: number;
  summary: ProfileSummary;
  /** toolgate's hottest lines, with their text. */
  hotLines: (LineEntry & { text: string })[];
}

interface Prepared {
  key: string;
  mode: Mode;
  server: Launched;
  request: HttpRequest;
  /** When the server was spawned (its profile's clock starts then). */
  spawned: number;
}

/** Starts the mode's server under the profiler and checks one call. */
async function prepare(key: string, dir: string, ctx: ModeContext): Promise<Prepared> {
  // A mode measured in one era only (e.g. oauth2-oidc) is profiled in the other one on request.
  const own = MODES.find((m) => m.key === key);
  const found = legacy && key !== "baseline-v1" ? MODES.find((m) => m.key === `${key}@${LEGACY}`) : own;
  const mode = found ?? (own && { ...own, key: `${own.key}@${args.era}`, era: legacy ? LEGACY : MODERN });
  if (!mode) throw new Error(`unknown mode ${key}`);
  const spawned = performance.now();
  const server = await launch({
    kind: mode.server,
    env: mode.env?.(ctx) ?? {},
    dir,
    name: `profile-${key}`,
    cpuProfileDir: join(dir, `profile-${key}`),
  });
  try {
    const headers = (await mode.credentials?.(server.base, ctx)) ?? {};
    const request = toolCall(mode.era, mode.tool.name, mode.tool.arguments, headers);
    const probe = await send(server.base, request);
    if (probe.status !== 200 || verdict(probe.body) === "bad") throw new Error(`${key}: ${probe.status} ${probe.body}`);
    return { key, mode, server, request, spawned };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/**
 * Loads the servers — one after the other, or all at once (`--together`: they share the server
 * core, so the machine's slow and fast moments fall on all of them alike) — after 2 s of warm-up,
 * stops them and reads each main thread's profile inside its load window.
 */
async function profile(prepared: Prepared[], dir: string, together: boolean): Promise<Profiled[]> {
  const loadAll = (durationSec: number, which: Prepared[]) =>
    Promise.all(which.map((p) => runLoad({ base: p.server.base, request: p.request, connections: 50, durationSec })));
  const measured: { load: LoadResult; from: number; to: number }[] = [];
  try {
    if (together) {
      await loadAll(2, prepared);
      const from = performance.now();
      const loads = await loadAll(seconds, prepared);
      const to = performance.now();
      for (const load of loads) measured.push({ load, from, to });
    } else {
      for (const p of prepared) {
        process.stdout.write(`profiling ${p.key} (${seconds} s under load)… `);
        await loadAll(2, [p]);
        const from = performance.now();
        const [load] = await loadAll(seconds, [p]);
        const to = performance.now();
        measured.push({ load: load as LoadResult, from, to });
        console.log(`${load?.rps.toFixed(0)} req/s`);
      }
    }
  } finally {
    for (const p of prepared) await p.server.stop();
  }
  const runs: Profiled[] = [];
  for (const [i, p] of prepared.entries()) {
    const { load, from, to } = measured[i] as (typeof measured)[number];
    // Trim a little at both ends: the profile clock starts a few ms after the spawn.
    const window = { fromMs: from - p.spawned + 250, toMs: to - p.spawned - 250 };
    // The main thread's profile: CPU.<date>.<time>.<pid>.0.<seq>.cpuprofile.
    const profileDir = join(dir, `profile-${p.key}`);
    const file = (await readdir(profileDir)).find((f) => f.startsWith(`CPU.`) && f.includes(`.${p.server.pid}.0.`));
    if (!file) throw new Error(`${p.key}: no main-thread .cpuprofile written (see ${p.server.logFile})`);
    const summary = analyse(loadProfile(join(profileDir, file)), window);
    const share = (window.toMs - window.fromMs) / (seconds * 1000);
    const hotLines = summary.lines.slice(0, 20).map((l) => ({ ...l, text: lineText(l.url, l.line) }));
    runs.push({ mode: p.mode.key, requests: load.total * share, rps: load.rps, summary, hotLines });
  }
  return runs;
}

/** The text of a line of a compiled file (the build is still there when the profile is analysed). */
function lineText(url: string, line: number): string {
  try {
    const text = readFileSync(fileURLToPath(url), "utf8").split("\n")[line - 1]?.trim() ?? "";
    return text.length > 90 ? `${text.slice(0, 87)}…` : text;
  } catch {
    return "";
  }
}

const us = (ms: number, requests: number) => ((1000 * ms) / Math.max(1, requests)).toFixed(1);

function groupTable(runs: Profiled[]): string {
  const groups = new Map<string, number[]>();
  runs.forEach((run, i) => {
    for (const m of run.summary.modules) {
      const g = groupOf(m.module);
      const row = groups.get(g) ?? runs.map(() => 0);
      row[i] = (row[i] ?? 0) + m.self;
      groups.set(g, row);
    }
  });
  const rows = [...groups.entries()].sort((a, b) => (b[1].at(-1) ?? 0) - (a[1].at(-1) ?? 0));
  const header = `| group | ${runs.map((r) => `${r.mode} µs/req`).join(" | ")} |`;
  const sep = `|---|${runs.map(() => "---:").join("|")}|`;
  const lines = rows.map(([g, v]) => `| ${g} | ${v.map((ms, i) => us(ms, runs[i]?.requests ?? 1)).join(" | ")} |`);
  const total = `| **${args.together ? "main-thread time" : "CPU"} per request** | ${runs.map((r) => `**${us(r.summary.busyMs, r.requests)}**`).join(" | ")} |`;
  const rps = `| req/s under the profiler | ${runs.map((r) => r.rps.toFixed(0)).join(" | ")} |`;
  return [header, sep, total, rps, ...lines].join("\n");
}

function functionsTable(run: Profiled, pick: (f: Entry) => boolean, by: "self" | "total", top: number): string {
  const list = run.summary.functions
    .filter(pick)
    .sort((a, b) => b[by] - a[by])
    .slice(0, top);
  return [
    "| µs/req self | µs/req incl | function |",
    "|---:|---:|---|",
    ...list.map((f) => `| ${us(f.self, run.requests)} | ${us(f.total, run.requests)} | \`${f.key}\` |`),
  ].join("\n");
}

pinSelf();
const dir = scratchDir("toolgate-profile-");
if (args.keep) forget(dir);
const codebase = await createTinyCodebase();
const runs: Profiled[] = [];
try {
  if (!args.source) useBuild(await buildToolgate(dir));
  const ctx = await prepareModeContext(dir, codebase, args["log-level"]);
  try {
    const prepared: Prepared[] = [];
    try {
      for (const key of args.modes.split(",")) prepared.push(await prepare(key, dir, ctx));
    } catch (error) {
      for (const p of prepared) await p.server.stop();
      throw error;
    }
    if (args.together) console.log(`profiling ${args.modes} together (${seconds} s under load)…`);
    runs.push(...(await profile(prepared, dir, args.together)));
    for (const run of runs)
      console.log(
        `  ${run.mode}: ${run.rps.toFixed(0)} req/s, ${us(run.summary.busyMs, run.requests)} µs ${args.together ? "of main-thread time" : "CPU"} per request`,
      );
  } finally {
    await ctx.close();
  }
} finally {
  if (!args.keep) await rm(dir, { recursive: true, force: true });
  else console.log(`kept ${dir}`);
  await rm(codebase, { recursive: true, force: true });
}

// Stopped by a signal: nothing is written (proc.ts exits).
await unlessStopping();
const sections = [
  "# CPU profiles under load",
  "",
  `<!-- Written by bench/profile.ts (${new Date().toISOString()}), era ${args.era}, ${seconds} s of saturation per server after 2 s of warm-up${args.together ? ", the servers loaded together" : ""}; only samples inside the load window. -->`,
  "",
  args.together
    ? "Loaded together (`--together`): the servers shared one core, and V8 samples by the clock, so a process waiting for the core counts as busy in whatever it was running — the figures are µs of the main thread's time per request, ~2–3× its CPU time, in the same proportions. Compare the columns, not the figures with a run alone."
    : "CPU time per request (µs) by group of modules:",
  "",
  groupTable(runs),
  "",
];
for (const run of runs) {
  sections.push(
    `## ${run.mode}`,
    "",
    "Top functions by self time:",
    "",
    functionsTable(run, () => true, "self", 25),
    "",
  );
  if (run.mode.startsWith("baseline")) continue;
  sections.push(
    "toolgate's own functions (src/) by inclusive time:",
    "",
    functionsTable(run, (f) => f.module.startsWith("src/"), "total", 25),
    "",
    "toolgate's hottest lines by self time (line numbers of the compiled JavaScript; a line's share of its function's samples, from V8's position ticks):",
    "",
    "| µs/req self | line | code |",
    "|---:|---|---|",
    ...run.hotLines.map(
      (l) =>
        `| ${us(l.self, run.requests)} | \`${l.key}\` | \`${l.text.replaceAll("|", "\\|").replaceAll("`", "'")}\` |`,
    ),
    "",
    "```",
    formatSummary(run.summary, { top: 30 }),
    "```",
    "",
  );
}
await mkdir(join(REPO, "bench", "results"), { recursive: true });
await writeFile(join(REPO, "bench", "results", "profile.md"), sections.join("\n"));
console.log(`\n${groupTable(runs)}\n\nwrote bench/results/profile.md`);
process.exit(0);
