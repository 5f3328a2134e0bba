/**
 * CPU profiles under load: toolgate (anonymous, and oauth2 with its token cache) and the SDK v2
 * baseline, each server started with `node --cpu-prof`, pinned to core 0, saturated by autocannon
 * on core 1. Only the samples of the measured load window count (no start-up, no shutdown).
 * Prints, and writes to bench/results/profile.md: CPU per request by module group and by module,
 * the top self-time functions, toolgate's own functions by inclusive time, and its hottest source
 * lines (V8 position ticks; this is how the per-request object spreads were found).
 *
 *   npx tsx bench/profile.ts [--seconds 8] [--modes baseline,anonymous,oauth2] [--era 2026-07-28|2025-11-25]
 *                            [--log-level info] [--source] [--keep]
 * `--log-level` (default info) is the LOG_LEVEL of the toolgate servers.
 * Servers are compiled first (bench/lib/build.ts), as in `npm run bench`; `--source` runs them through tsx.
 */
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildToolgate } from "./lib/build.js";
import { cli } from "./lib/cli.js";
import {
  analyse,
  type Entry,
  formatSummary,
  type LineEntry,
  loadProfile,
  type ProfileSummary,
} from "./lib/cpuprofile.js";
import { runLoad } from "./lib/load.js";
import { MODES, prepareModeContext } from "./lib/modes.js";
import { pinSelf, REPO, removeOnExit } from "./lib/proc.js";
import { createTinyCodebase } from "./lib/project.js";
import { LEGACY, MODERN, send, toolCall, verdict } from "./lib/requests.js";
import { launch, useBuild } from "./lib/servers.js";

const args = cli(import.meta.url, {
  seconds: { type: "string", default: "8" },
  modes: { type: "string", default: "baseline,anonymous,oauth2" },
  era: { type: "string", default: "2026-07-28" },
  "log-level": { type: "string", default: "info" },
  keep: { type: "boolean", default: false },
  source: { type: "boolean", default: false },
});
const seconds = Number(args.seconds);
const legacy = args.era === LEGACY;

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

async function profileMode(key: string, dir: string, ctx: Awaited<ReturnType<typeof prepareModeContext>>) {
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
  let window: { fromMs: number; toMs: number };
  let load: Awaited<ReturnType<typeof runLoad>>;
  try {
    const headers = (await mode.credentials?.(server.base, ctx)) ?? {};
    const request = toolCall(mode.era, mode.tool.name, mode.tool.arguments, headers);
    const probe = await send(server.base, request);
    if (probe.status !== 200 || verdict(probe.body) === "bad") throw new Error(`${key}: ${probe.status} ${probe.body}`);
    await runLoad({ base: server.base, request, connections: 50, durationSec: 2 });
    const from = performance.now();
    load = await runLoad({ base: server.base, request, connections: 50, durationSec: seconds });
    const to = performance.now();
    // Trim a little at both ends: the profile clock starts a few ms after the spawn.
    window = { fromMs: from - spawned + 250, toMs: to - spawned - 250 };
  } finally {
    await server.stop();
  }
  // The main thread's profile: CPU.<date>.<time>.<pid>.0.<seq>.cpuprofile.
  const profileDir = join(dir, `profile-${key}`);
  const file = (await readdir(profileDir)).find((f) => f.startsWith(`CPU.`) && f.includes(`.${server.pid}.0.`));
  if (!file) throw new Error(`${key}: no main-thread .cpuprofile written (see ${server.logFile})`);
  const summary = analyse(loadProfile(join(profileDir, file)), window);
  const share = (window.toMs - window.fromMs) / (seconds * 1000);
  const hotLines = summary.lines.slice(0, 20).map((l) => ({ ...l, text: lineText(l.url, l.line) }));
  return { mode: mode.key, requests: load.total * share, rps: load.rps, summary, hotLines };
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
  const total = `| **CPU per request** | ${runs.map((r) => `**${us(r.summary.busyMs, r.requests)}**`).join(" | ")} |`;
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
const dir = await mkdtemp(join(tmpdir(), "toolgate-profile-"));
const codebase = await createTinyCodebase();
if (!args.keep) removeOnExit(dir);
removeOnExit(codebase);
const runs: Profiled[] = [];
try {
  if (!args.source) useBuild(await buildToolgate(dir));
  const ctx = await prepareModeContext(dir, codebase, args["log-level"]);
  try {
    for (const key of args.modes.split(",")) {
      process.stdout.write(`profiling ${key} (${seconds} s under load)… `);
      const run = await profileMode(key, dir, ctx);
      runs.push(run);
      console.log(`${run.rps.toFixed(0)} req/s, ${us(run.summary.busyMs, run.requests)} µs CPU per request`);
    }
  } finally {
    await ctx.close();
  }
} finally {
  if (!args.keep) await rm(dir, { recursive: true, force: true });
  else console.log(`kept ${dir}`);
  await rm(codebase, { recursive: true, force: true });
}

const sections = [
  "# CPU profiles under load",
  "",
  `<!-- Written by bench/profile.ts (${new Date().toISOString()}), era ${args.era}, ${seconds} s of saturation per server after 2 s of warm-up; only samples inside the load window. -->`,
  "",
  "CPU time per request (µs) by group of modules:",
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
