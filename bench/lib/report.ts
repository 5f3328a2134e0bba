/**
 * Turning a run into its outputs: the target checks, the console table, docs/performance.md and
 * the hand-written SVG chart of throughput per mode.
 */
import type { AttackResult } from "../scenarios/attack.js";
import type { CodegenSize } from "../scenarios/codegen.js";
import type { FloorResult } from "../scenarios/floor.js";
import type { SignInEra } from "../scenarios/sign-in.js";
import type { ModeResult } from "../scenarios/throughput.js";
import type { MachineInfo } from "./machine.js";
import { perRoundRatios, roundCpuRatio, roundRatio } from "./stats.js";

export interface RunInfo {
  command: string;
  quick: boolean;
  date: string;
  commit: string;
  rounds: number;
  warmupSec: number;
  saturationSec: number;
  fixedSec: number;
  connections: number;
  /** Slice length of the in-process sign-in measure. */
  signInSliceSec?: number;
  /** Fresh pairs of processes per era in part 1b. */
  signInRounds?: number;
  logLevel: string;
  /** How the servers ran: compiled JavaScript, or sources through tsx. */
  servers: string;
  elapsedSec?: number;
  /** Seconds per part (throughput, signIn, attack, codegen, floor). */
  partsSec?: Record<string, number>;
  toolgateTool: string;
  baselineTool: string;
  note?: string;
}

/**
 * Codegen sizes the full run leaves out (10,000 tools), measured by a run of their own
 * (`--codegen-sizes 10000`): kept in bench/results/codegen-separate.json with where they came from,
 * and shown in docs/performance.md beside the full run's sizes, marked as such.
 */
export interface SeparateCodegen {
  sizes: (CodegenSize & { run: { date: string; commit: string; command: string; loadStart: number } })[];
}

export interface Results {
  run: RunInfo;
  machine: MachineInfo;
  versions: Record<string, string>;
  modes: Record<string, ModeResult>;
  ratios: Record<string, number | null>;
  targets: Target[];
  /** (c)/(b) with fresh (b) and (c) servers loaded alternately (bench/scenarios/sign-in.ts). */
  signIn?: SignInEra[] | { error: string };
  attack?: AttackResult | { error: string };
  codegen?: { sizes: CodegenSize[] } | { error: string };
  floor?: FloorResult | { error: string };
}

export interface Target {
  name: string;
  value: number | null;
  /** "≥ 0.95", "< 10 s" */
  goal: string;
  status: "PASS" | "FAIL" | "N/A" | "INFO";
  note?: string;
}

const L = "@2025-11-25";

/** Ratio `a / b` of two modes from the same run (per round, then the median); null when either is missing or failed. */
export function modeRatio(modes: Record<string, ModeResult>, a: string, b: string): number | null {
  const x = modes[a];
  const y = modes[b];
  if (!x || !y || x.failed || y.failed) return null;
  const r = roundRatio(x.rounds, y.rounds);
  return Number.isFinite(r) ? r : null;
}

/** The CPU-per-request counterpart of `modeRatio`: `b`'s µs per request over `a`'s. */
export function modeCpuRatio(modes: Record<string, ModeResult>, a: string, b: string): number | null {
  const x = modes[a];
  const y = modes[b];
  if (!x || !y || x.failed || y.failed) return null;
  const r = roundCpuRatio(x.rounds, y.rounds);
  return Number.isFinite(r) ? r : null;
}

export function computeRatios(modes: Record<string, ModeResult>): Record<string, number | null> {
  return {
    "oauth2/anonymous": modeRatio(modes, "oauth2", "anonymous"),
    [`oauth2/anonymous${L}`]: modeRatio(modes, `oauth2${L}`, `anonymous${L}`),
    "anonymous/baseline": modeRatio(modes, "anonymous", "baseline"),
    [`anonymous/baseline${L}`]: modeRatio(modes, `anonymous${L}`, `baseline${L}`),
    "anonymous/tmcp": modeRatio(modes, "anonymous", "tmcp"),
    "oauth2/tmcp": modeRatio(modes, "oauth2", "tmcp"),
    "oauth2-oidc/anonymous": modeRatio(modes, "oauth2-oidc", "anonymous"),
    [`oauth2-oidc/anonymous${L}`]: modeRatio(modes, `oauth2-oidc${L}`, `anonymous${L}`),
    "oauth2/anonymous+token-bytes": modeRatio(modes, "oauth2", "anonymous+token-bytes"),
    "anonymous+token-bytes/anonymous": modeRatio(modes, "anonymous+token-bytes", "anonymous"),
    "oauth2-nocache/oauth2": modeRatio(modes, "oauth2-nocache", "oauth2"),
    "api-key/anonymous": modeRatio(modes, "api-key", "anonymous"),
    "baseline/tmcp": modeRatio(modes, "baseline", "tmcp"),
    [`baseline-v1/baseline${L}`]: modeRatio(modes, "baseline-v1", `baseline${L}`),
    "cpu:oauth2/anonymous": modeCpuRatio(modes, "oauth2", "anonymous"),
    [`cpu:oauth2/anonymous${L}`]: modeCpuRatio(modes, `oauth2${L}`, `anonymous${L}`),
    "cpu:anonymous/baseline": modeCpuRatio(modes, "anonymous", "baseline"),
    [`cpu:anonymous/baseline${L}`]: modeCpuRatio(modes, `anonymous${L}`, `baseline${L}`),
    "cpu:anonymous/tmcp": modeCpuRatio(modes, "anonymous", "tmcp"),
    "cpu:oauth2-oidc/anonymous": modeCpuRatio(modes, "oauth2-oidc", "anonymous"),
  };
}

export function checkTargets(
  ratios: Record<string, number | null>,
  codegen: CodegenSize[] | undefined,
  modes: Record<string, ModeResult>,
  signIn?: SignInEra[],
  attack?: AttackResult | { error: string },
): Target[] {
  // A ratio target is the median of the per-round ratios: within a round both modes are measured
  // seconds apart, and the order is reversed every other round (bench/scenarios/throughput.ts).
  const atLeast = (name: string, a: string, b: string, goal: number): Target => {
    const value = modeRatio(modes, a, b);
    const failed = [a, b].filter((k) => modes[k]?.failed);
    const perRound = perRoundRatios(modes[a]?.rounds ?? [], modes[b]?.rounds ?? []).map((r) =>
      r === undefined ? "–" : r.toFixed(2),
    );
    const cpu = modeCpuRatio(modes, a, b);
    return {
      name,
      value,
      goal: `≥ ${goal.toFixed(2)}`,
      status: value === null ? (failed.length > 0 ? "FAIL" : "N/A") : value >= goal ? "PASS" : "FAIL",
      ...(value === null
        ? { note: failed.length ? `mode failed: ${failed.join(", ")}` : "not measured" }
        : {
            note: `rounds: ${perRound.join(", ")}${cpu === null ? "" : `; CPU per request: ${cpu.toFixed(2)}`}`,
          }),
    };
  };
  const thousand = codegen?.find((s) => s.tools === 1000);
  // Measured but failed is FAIL (a failed generate has no time to compare); not measured is N/A.
  const generateMs = thousand?.ok ? thousand.generateMs : undefined;
  const failed = thousand !== undefined && (generateMs === undefined || thousand.error !== undefined);
  const problem = { note: (thousand?.error ?? "failed").slice(0, 200) };
  const gen: Target = {
    name: "1,000 tools: generate",
    value: generateMs === undefined ? null : generateMs / 1000,
    goal: "< 10 s",
    status: generateMs !== undefined ? (generateMs < 10_000 ? "PASS" : "FAIL") : failed ? "FAIL" : "N/A",
    ...(!thousand
      ? { note: "not measured in this run (1,000 not in --codegen-sizes)" }
      : generateMs === undefined
        ? problem
        : {}),
  };
  const serve = thousand?.serve;
  const start: Target = {
    name: "1,000 tools: server start",
    value: serve ? serve.startMs / 1000 : null,
    goal: "< 1 s",
    status: serve ? (serve.startMs < 1000 ? "PASS" : "FAIL") : failed ? "FAIL" : "N/A",
    ...(serve ? {} : failed ? problem : { note: thousand?.serveSkipped ?? "not measured" }),
  };
  const optional = (target: Target): Target[] => (target.value === null ? [] : [target]);
  const info = (name: string, key: string): Target => ({
    name,
    value: ratios[key] ?? null,
    goal: "report",
    status: "INFO",
  });
  /**
   * (c)/(b): from the two modes loaded alternately (bench/scenarios/sign-in.ts) when measured — the
   * sequential rounds spread ±15 % from process to process on this machine, the alternating pairs
   * within ±4 % — else from the sequential rounds. Both are in the note.
   */
  const signInTarget = (era: string, a: string, b: string): Target => {
    const sequential = atLeast(`(c)/(b) oauth2 / anonymous, ${era}`, a, b, 0.95);
    const measured = signIn?.find((e) => e.era === era);
    if (!measured) return sequential;
    return {
      name: sequential.name,
      value: measured.ratio,
      goal: "≥ 0.95",
      status: measured.ratio >= 0.95 ? "PASS" : "FAIL",
      note: `loaded alternately, ${(measured.roundRatios ?? [measured.ratio]).length} pair(s) of processes: ${(measured.roundRatios ?? [measured.ratio]).map((r) => r.toFixed(3)).join(", ")}; sequential rounds: ${sequential.value === null ? "–" : sequential.value.toFixed(2)} (${sequential.note ?? ""})`,
    };
  };
  /** The attack part's own checks: a valid token is served, every flood answer is a 401, the refetches stay within the cooldown's bound. */
  const attackChecks = (): Target[] => {
    if (attack === undefined) return [];
    const name = "attack: a valid token served, every forged one 401, JWKS refetches within the cooldown bound";
    if ("error" in attack) return [{ name, value: null, goal: "all hold", status: "FAIL", note: attack.error }];
    const problems = [
      ...(attack.validTokenServed ? [] : ["a valid token was not served"]),
      ...[attack.badSignature, attack.randomKid].flatMap((f) =>
        f.bad > 0 ? [`${f.bad} answer(s) not 401: ${f.firstBad ?? "?"}`] : [],
      ),
      ...(attack.randomKid.jwksFetches > attack.randomKid.jwksFetchBound
        ? [`${attack.randomKid.jwksFetches} JWKS fetches, bound ${attack.randomKid.jwksFetchBound}`]
        : []),
    ];
    return [
      {
        name,
        value: null,
        goal: "all hold",
        status: problems.length ? "FAIL" : "PASS",
        ...(problems.length ? { note: problems.join("; ").slice(0, 300) } : {}),
      },
    ];
  };
  return [
    signInTarget("2026-07-28", "oauth2", "anonymous"),
    signInTarget("2025-11-25", `oauth2${L}`, `anonymous${L}`),
    atLeast("(b)/(a) anonymous / SDK v2 baseline, 2026-07-28", "anonymous", "baseline", 1.0),
    atLeast("(b)/(a) anonymous / SDK v2 baseline, 2025-11-25", `anonymous${L}`, `baseline${L}`, 1.0),
    gen,
    start,
    ...attackChecks(),
    info("(b)/(t) anonymous / tmcp", "anonymous/tmcp"),
    info("(c)/(t) oauth2 / tmcp", "oauth2/tmcp"),
    info("(c′)/(b) oauth2 with an external issuer (no dev AS) / anonymous", "oauth2-oidc/anonymous"),
    // On-demand modes (`--only`): reported when measured.
    ...optional(info("(c′)/(b) the same, 2025-11-25", `oauth2-oidc/anonymous${L}`)),
    ...optional(
      info(
        "(c)/(b″) oauth2 / anonymous carrying the same token's bytes (the auth work alone)",
        "oauth2/anonymous+token-bytes",
      ),
    ),
    ...optional(
      info("(b″)/(b) what the bearer token's bytes cost an anonymous request", "anonymous+token-bytes/anonymous"),
    ),
    info("(d)/(c) token cache off / on", "oauth2-nocache/oauth2"),
    info("(e)/(b) api-key / anonymous", "api-key/anonymous"),
    info("(a)/(t) SDK v2 / tmcp", "baseline/tmcp"),
    info("(a′)/(a) SDK v1 / SDK v2, 2025-11-25", `baseline-v1/baseline${L}`),
    info("CPU (c)/(b): anonymous µs/req ÷ oauth2 µs/req, 2026-07-28", "cpu:oauth2/anonymous"),
    info("CPU (c)/(b): the same, 2025-11-25", `cpu:oauth2/anonymous${L}`),
    info("CPU (b)/(a): baseline µs/req ÷ anonymous µs/req, 2026-07-28", "cpu:anonymous/baseline"),
    info("CPU (b)/(a): the same, 2025-11-25", `cpu:anonymous/baseline${L}`),
    info("CPU (b)/(t): tmcp µs/req ÷ anonymous µs/req", "cpu:anonymous/tmcp"),
    info("CPU (c′)/(b): anonymous µs/req ÷ oauth2-oidc µs/req", "cpu:oauth2-oidc/anonymous"),
  ];
}

const f0 = (v: number | undefined | null) => (v === undefined || v === null || Number.isNaN(v) ? "–" : v.toFixed(0));
const f1 = (v: number | undefined | null) => (v === undefined || v === null || Number.isNaN(v) ? "–" : v.toFixed(1));
const f2 = (v: number | undefined | null) => (v === undefined || v === null || Number.isNaN(v) ? "–" : v.toFixed(2));

/** Sends later than this (ms): the fixed load's p99 then includes the sender's own delay (lib/paced.ts). */
const LATE_MS = 2;

const MODE_COLUMNS = [
  "mode",
  "tag",
  "era",
  "req/s",
  "CPU µs/req",
  "p50 ms",
  "p99 ms",
  "p50@50%",
  "p99@50%",
  "RSS MiB",
  "note",
];

function modeRows(modes: Record<string, ModeResult>): string[][] {
  return Object.entries(modes).map(([key, m]) => [
    key,
    m.tag,
    m.era,
    m.failed ? "FAILED" : f0(m.rps),
    f0(m.cpuUsPerReq),
    // autocannon's whole milliseconds; the paced fixed load's microseconds.
    f0(m.p50),
    f0(m.p99),
    f2(m.p50At50),
    f2(m.p99At50),
    f0(m.rssMiB),
    m.failed
      ? (m.failure ?? "").slice(0, 80)
      : (m.sendLagAt50 ?? 0) > LATE_MS
        ? `@50%: sends up to ${f1(m.sendLagAt50)} ms late (in its p99)`
        : "",
  ]);
}

function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** A Markdown table; `left` lists the columns aligned left (the first and the last by default). */
function mdTable(header: string[], rows: string[][], left: number[] = [0, header.length - 1]): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  return [
    `| ${header.map(esc).join(" | ")} |`,
    `|${header.map((_, i) => (left.includes(i) ? "---" : "---:")).join("|")}|`,
    ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ].join("\n");
}

function targetRows(targets: Target[]): string[][] {
  return targets.map((t) => [
    t.name,
    t.value === null ? "–" : t.goal.includes("s") ? `${f2(t.value)} s` : f2(t.value),
    t.goal,
    t.status,
    t.note ?? "",
  ]);
}

/** The console summary. */
export function consoleReport(results: Results): string {
  const parts = [
    textTable(MODE_COLUMNS, modeRows(results.modes)),
    "",
    textTable(["target", "value", "goal", "status", "note"], targetRows(results.targets)),
  ];
  const attack = results.attack;
  if (attack && !("error" in attack)) {
    parts.push(
      "",
      `attack (oauth2, oidc issuer, JWKS cooldown ${attack.cooldownMs} ms, ${attack.durationSec} s floods):` +
        ` bad signature ${f0(attack.badSignature.rejectionsPerSec)} rejections/s (JWKS fetches ${attack.badSignature.jwksFetches});` +
        ` random kid ${f0(attack.randomKid.rejectionsPerSec)} rejections/s (JWKS fetches ${attack.randomKid.jwksFetches}, bound ${attack.randomKid.jwksFetchBound})`,
    );
  } else if (attack) parts.push("", `attack: FAILED ${attack.error}`);
  const floor = results.floor;
  if (floor && !("error" in floor))
    parts.push(`floor (jose, one core): RS256 ${f0(floor.rs256)} verify/s, ES256 ${f0(floor.es256)} verify/s`);
  return parts.join("\n");
}

// ---------------------------------------------------------------------------------------- SVG

const COLOURS: Record<string, string> = {
  "baseline-v2": "#8c8c8c",
  "baseline-v1": "#b3b3b3",
  tmcp: "#7b5ea7",
  toolgate: "#2a6fdb",
};

const xml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** A horizontal bar chart of req/s per mode (median), hand-written SVG. */
export function throughputSvg(results: Results): string {
  const entries = Object.entries(results.modes);
  const rowH = 26;
  const left = 250;
  const barW = 520;
  const top = 48;
  const width = left + barW + 90;
  const height = top + entries.length * rowH + 44;
  const max = Math.max(1, ...entries.map(([, m]) => (m.failed ? 0 : m.rps)));
  const rows = entries.map(([key, m], i) => {
    const y = top + i * rowH;
    const w = m.failed ? 0 : Math.max(1, (m.rps / max) * barW);
    const colour = COLOURS[m.server] ?? "#2a6fdb";
    const label = `${m.tag} ${key}`;
    const value = m.failed ? "failed" : `${m.rps.toFixed(0)} req/s`;
    return [
      `  <text x="${left - 8}" y="${y + 17}" text-anchor="end">${xml(label)}</text>`,
      `  <rect x="${left}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="${colour}" rx="2"/>`,
      `  <text x="${(left + w + 6).toFixed(1)}" y="${y + 17}">${xml(value)}</text>`,
    ].join("\n");
  });
  const legend = [
    ["SDK v2 / v1 by hand", COLOURS["baseline-v2"]],
    ["tmcp", COLOURS.tmcp],
    ["toolgate", COLOURS.toolgate],
  ]
    .map(([name, colour], i) => {
      const x = left + i * 170;
      const y = height - 20;
      return `  <rect x="${x}" y="${y - 10}" width="12" height="12" fill="${colour}"/>\n  <text x="${x + 18}" y="${y}">${xml(name as string)}</text>`;
    })
    .join("\n");
  const title = `tools/call throughput, ${results.run.connections} connections, server on one core (${results.run.rounds > 1 ? `median of ${results.run.rounds} rounds; (c′), (d), (e), (a′), (b+): one round` : "one round"}${results.run.quick ? ", quick run" : ""})`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="13">
  <rect width="${width}" height="${height}" fill="#ffffff"/>
  <text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="600">${xml(title)}</text>
  <line x1="${left}" y1="${top}" x2="${left}" y2="${top + entries.length * rowH}" stroke="#444"/>
${rows.join("\n")}
${legend}
</svg>
`;
}

// ----------------------------------------------------------------------------------- Markdown

function codegenRow(s: CodegenSize, label: string): string[] {
  return [
    label,
    s.generateMs !== undefined ? f2(s.generateMs / 1000) : `failed: ${s.error ?? "?"}`,
    f0(s.peakRssMiB),
    f1((s.generatedBytes ?? Number.NaN) / 1e6),
    f0(s.serve?.startMs),
    s.serve ? `${f1(s.serve.firstCallMs)} (next ${f1(s.serve.nextCallMs)})` : "–",
    f1(s.serve?.listP50),
    f0(s.serve?.rssMiB),
  ];
}

export function markdownReport(results: Results, separate?: SeparateCodegen): string {
  const { run, machine, versions } = results;
  const busy = machine.loadStart > 0.5 || (machine.loadEnd ?? 0) > 1.5;
  const banner = [
    run.quick ? "> **Quick smoke run** (`--quick`: one short round): for checking the harness, not for quoting." : "",
    busy
      ? `> **Busy machine**: the 1-minute load average was ${machine.loadStart.toFixed(2)} at the start and ${f2(machine.loadEnd)} at the end; absolute figures are noisy.`
      : "",
  ]
    .filter(Boolean)
    .join("\n>\n");
  const sections: string[] = [
    "# Performance",
    "",
    "<!-- Written by `npm run bench` (bench/run.ts): edit the harness, not this file. -->",
    "",
    ...(banner ? [banner, ""] : []),
    `Run ${run.date}, commit \`${run.commit}\`, command \`${run.command}\`${run.elapsedSec ? `, ${Math.round(run.elapsedSec)} s` : ""}.`,
    "",
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memGiB} GiB, Linux ${machine.kernel}, Node ${machine.node}; ${machine.pinned ? "server pinned to core 0 and load generators (autocannon at saturation, bench/lib/paced.ts for the fixed load, both in the harness process) to core 1 with `taskset`" : "**not pinned** (taskset or a second core missing)"}.`,
    "",
    `Versions: ${Object.entries(versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}.`,
    "",
    "## How it is measured",
    "",
    `Every mode runs in a fresh server process per round, ${run.rounds} round${run.rounds > 1 ? "s" : ""} (the informational modes (c′), (d), (e), (a′) and (b+) in the first round only; (b″) and (c′) on the 2025 path only when named in \`--only\`); each figure is the median over rounds. Modes are interleaved: the two SDK v2 baselines first in every round, the others in the order of the table, reversed in even rounds, so the two modes of a ratio run in the same round, neither always first. Per mode and round: start the server, ${run.warmupSec} s warm-up with ${run.connections} connections (a fresh Node server needs 3–5 s under load to reach its steady rate: the JIT), ${run.saturationSec} s at saturation (autocannon; its latencies are whole milliseconds), then ${run.fixedSec} s at a fixed offered load of 50 % of the capacity the SDK v2 baseline of the same protocol era had in that round (bench/lib/paced.ts: requests sent at evenly spaced moments over up to ${run.connections} keep-alive connections, each answer timed in microseconds from the moment it was due; autocannon's \`overallRate\` sends each second's quota in one burst), stop. A server is always loaded alone on the server core. CPU µs/req is the server's user + system CPU time (all threads, /proc/<pid>/stat) during the saturation run divided by the requests answered. Resident memory is VmRSS of the server after the runs. Servers: ${run.servers}. Every answer is checked: a 2xx carrying a JSON-RPC result that is no tool error (\`isError\`), else the mode fails. Ratios are taken per round (the two modes ran seconds apart), then the median over rounds.`,
    "",
    `The baselines are called with \`${run.baselineTool}\`; toolgate with \`${run.toolgateTool}\`, the same trivial tool generated from a toolgate project. The real search (one regex worker per call, one-file CODEBASE_ROOT) is the informational mode \`anonymous+search\`. toolgate logs at \`${run.logLevel}\` (one audit line per tools/call). ${run.note ?? ""}`.trim(),
    "",
    "## tools/call",
    "",
    mdTable(MODE_COLUMNS, modeRows(results.modes)),
    "",
    "![tools/call throughput per mode](performance-throughput.svg)",
    "",
    ...Object.entries(results.modes).map(([k, m]) => `- \`${k}\` ${m.tag}: ${m.title}`),
    "",
    "Reading the table:",
    "",
    "- (c) runs the development authorization server, as `AUTH_MODE=oauth2` without a configured issuer does: in a worker thread, its requests handed to it as messages (src/dev-as/worker-host.ts), because its oidc-provider keeps an `AsyncLocalStorage` that on Node 20 turns on promise hooks for every promise of the process. (c′) trusts an external issuer instead (the production shape). What is known about the gap between (c) and (b), with the runs behind it, is in bench/README.md (Findings).",
    ...(results.modes["anonymous+token-bytes"]
      ? [
          "- (b″) is anonymous with each request carrying the same kind of bearer token, which the mode never reads: (c)/(b″) is the auth work alone (credential, the caller remembered per connection or the SHA-256 cache key, decision, audit fields), (b″)/(b) what ~1 KB more per request costs the HTTP layer.",
        ]
      : []),
    "- A plain JSON POST to /mcp is served without the express router and body-parser (src/http/app.ts, answers compared with the express route in test/integration/http-fast-path.test.ts); 2025-era POSTs and 2026-07-28 tools/call and tools/list are served by the SDK's `Server` over toolgate's own one-exchange transports (src/mcp/exchange.ts: written straight to Node, JSON unless the tool streams; answers compared with the SDK's `createMcpHandler` in test/integration/own-transports.test.ts), every other request by `createMcpHandler`.",
    "",
    "## Targets",
    "",
    "Each ratio is the median of its per-round ratios (listed in the note, with the ratio of CPU per request beside). Three rounds do not settle a difference of a few percent on a busy machine: see bench/README.md for longer runs of one ratio.",
    "",
    mdTable(["target", "value", "goal", "status", "note"], targetRows(results.targets)),
    "",
  ];
  const signIn = results.signIn;
  sections.push("## (c)/(b): the two modes loaded alternately", "");
  if (signIn && !("error" in signIn)) {
    sections.push(
      "Measured in the sequential rounds of the throughput part, each mode runs in a process of its own seconds after the other, and two consecutive processes of the same code differ by up to ±15 % on this machine. Here, per era, a fresh (b) and a fresh (c) — bearer token from the development AS — run side by side and take turns under load in 2 s slices, so both see the same moments of the machine (bench/scenarios/sign-in.ts; two processes of the same mode agree within ±4 % this way, `npx tsx bench/paired.ts --modes anonymous,anonymous`), and this is done with more than one fresh pair of processes, since pairs of processes differ more than slices do. Ratio: per pair of slices, (b)'s CPU per request ÷ (c)'s; the median over a round's pairs; the median over rounds (for two, their mean). The (c)/(b) targets above take this figure. A steadier estimate of the same ratio loads both servers at once instead of in turns (`npx tsx bench/paired.ts --together --modes anonymous@2025-11-25,oauth2@2025-11-25`; its rounds agree within ±1.5 %, figures in bench/README.md).",
      "",
      mdTable(
        ["era", "rounds × pairs × slice", "signed in µs/req", "anonymous µs/req", "ratio", "per round", "per pair"],
        signIn.map((e) => {
          const rounds = e.roundRatios ?? [e.ratio];
          return [
            e.era,
            `${rounds.length} × ${e.pairRatios.length / rounds.length} × ${run.signInSliceSec ?? "?"} s`,
            f1(e.signedInCpuUs),
            f1(e.anonymousCpuUs),
            e.ratio.toFixed(3),
            rounds.map((r) => r.toFixed(3)).join(", "),
            e.pairRatios.map((r) => r.toFixed(2)).join(", "),
          ];
        }),
      ),
      "",
    );
  } else sections.push(signIn ? `Failed: ${signIn.error}` : "Not run.", "");
  const attack = results.attack;
  sections.push("## Attack cost", "");
  if (attack && !("error" in attack)) {
    sections.push(
      `toolgate in mode oauth2 trusting an OIDC issuer run by the harness (RS256, JWKS cooldown lowered to ${attack.cooldownMs} ms so the refetch bound shows in a ${attack.durationSec} s flood; the default is 30 s). Every answer must be a 401. A valid token from the same issuer was ${attack.validTokenServed ? "served" : "**not served**"}.`,
      "",
      mdTable(
        ["flood", "rejections/s", "p50 ms", "p99 ms", "JWKS fetches", "bound", "non-401"],
        [
          ["(i) valid kid, bad signature", attack.badSignature],
          ["(ii) random kid per request", attack.randomKid],
        ].map(([name, fl]) => {
          const flood = fl as AttackResult["badSignature"];
          return [
            name as string,
            f0(flood.rejectionsPerSec),
            f0(flood.p50),
            f0(flood.p99),
            String(flood.jwksFetches),
            String(flood.jwksFetchBound),
            String(flood.bad),
          ];
        }),
        [0],
      ),
      "",
    );
  } else sections.push(attack ? `Failed: ${attack.error}` : "Not run.", "");

  sections.push("## Scale of the schema-first part", "");
  const codegen = results.codegen;
  if (codegen && !("error" in codegen)) {
    const measured = new Set(codegen.sizes.map((s) => s.tools));
    const extra = (separate?.sizes ?? []).filter((s) => !measured.has(s.tools));
    sections.push(
      "`runGenerator({root, mode: \"write\"})` on temp projects of N tools shaped like the shipped `codebase.search` (each with its own bounds, so no two schemas are alike), in a child process pinned to one core (module loading excluded). Then the project is served as `npm start` serves one — its TypeScript made JavaScript (esbuild, types erased file by file), toolgate's runtime compiled with tsc, plain node pinned to the server core, AUTH_MODE=anonymous: start is spawn → first 200 on /healthz; a tool's handler and validators load on its first call (timed, then the next call); tools/list latency is one connection for 2 s; memory is VmRSS after that.",
      "",
      mdTable(
        [
          "tools",
          "generate s",
          "generator peak MiB",
          "generated MB",
          "start ms",
          "first tools/call ms",
          "tools/list p50 ms",
          "server RSS MiB",
        ],
        [
          ...codegen.sizes.map((s) => codegenRow(s, s.tools.toLocaleString("en"))),
          ...extra.map((s) => codegenRow(s, `${s.tools.toLocaleString("en")} †`)),
        ],
        [],
      ),
      "",
    );
    for (const s of extra)
      sections.push(
        `† ${s.tools.toLocaleString("en")} tools, measured by a run of its own (the full run stays within six minutes): ${s.run.date}, commit \`${s.run.commit}\`, \`${s.run.command}\`, load average ${s.run.loadStart.toFixed(2)} at its start.`,
        "",
      );
    const largest = Math.max(...codegen.sizes.map((s) => s.tools), ...extra.map((s) => s.tools));
    const perTool = [...codegen.sizes, ...extra].find((s) => s.tools === largest)?.generateMs;
    if (largest < 10_000)
      sections.push(
        `10,000 tools are not part of the default run${perTool ? ` (at ${f0(perTool / largest)} ms per tool it would take about ${f0((perTool / largest) * 10)} s on its own)` : ""}: \`npm run bench -- --skip throughput,signin,attack,floor --codegen-sizes 10000\` measures them and keeps the figures for this page (bench/results/codegen-separate.json).`,
        "",
      );
    const tg = results.modes.anonymous;
    if (tg && !tg.failed)
      sections.push(
        `Start of the bench's project (examples/bench-echo, 1 tool, anonymous, the (b) servers above): ${f0(tg.readyMs)} ms from spawn to the first 200 on /healthz (servers ${run.servers}).`,
        "",
      );
  } else sections.push(codegen ? `Failed: ${codegen.error}` : "Not run.", "");

  sections.push("## Floor", "");
  const floor = results.floor;
  if (floor && !("error" in floor))
    sections.push(
      `jose \`jwtVerify\` in a tight loop on one core (toolgate's options: issuer, audience, algorithms, \`typ: at+jwt\`, required claims): RS256 **${f0(floor.rs256)}**/s, ES256 **${f0(floor.es256)}**/s. A request that needs a verification costs at least 1/${f0(floor.rs256)} s ≈ ${f0(1e6 / floor.rs256)} µs of CPU for RS256.`,
      "",
    );
  else sections.push(floor ? `Failed: ${floor.error}` : "Not run.", "");
  sections.push(
    "## Reproduce",
    "",
    "```sh",
    "npm run bench            # full run (≤ 6 min): writes bench/results/latest.json, this file and the chart",
    "npm run bench -- --quick # ~1 min smoke run",
    "npx tsx bench/profile.ts # CPU profiles of toolgate and the SDK baseline under load",
    "```",
    "",
  );
  return sections.join("\n");
}
