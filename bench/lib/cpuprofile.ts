/**
 * A small analyser of V8 `.cpuprofile` files (what `node --cpu-prof` writes): self time and
 * inclusive time per function, and self time per module (a package, a file of the project, a
 * node: builtin, the garbage collector), and self time per source line of the project's code.
 *
 *   npx tsx bench/lib/cpuprofile.ts <file.cpuprofile> [--top 25] [--filter src/]
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { REPO } from "./proc.js";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
  /** Samples per source line (1-based) taken in this node, over the whole profile. */
  positionTicks?: { line: number; ticks: number }[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Entry {
  key: string;
  module: string;
  /** Milliseconds. */
  self: number;
  total: number;
}

export interface LineEntry {
  /** `<module>:<line>` — for a build, the line of the compiled JavaScript. */
  key: string;
  module: string;
  url: string;
  line: number;
  /** Milliseconds of self time. */
  self: number;
}

export interface ProfileSummary {
  /** Wall time covered by the profile, and the part not idle (ms). */
  wallMs: number;
  busyMs: number;
  functions: Entry[];
  modules: { module: string; self: number }[];
  /**
   * Self time per source line of the project's code (modules `src/…`, `generated/…`): each
   * function's self time in the window, shared out over its lines as V8's `positionTicks` count
   * them over the whole profile (they carry no timestamps).
   */
  lines: LineEntry[];
}

const repoUrl = pathToFileURL(REPO).href.replace(/\/?$/, "/");

/** Where a frame's code lives: `pkg` for node_modules, `src/…` for the project, `node:x` for builtins. */
export function moduleOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) {
    if (functionName.startsWith("(")) return functionName; // (garbage collector), (program), (idle)
    return "(native)";
  }
  if (url.startsWith("node:")) return url.replace(/^node:internal\//, "node:");
  const nm = url.lastIndexOf("/node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + "/node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith(repoUrl)) return url.slice(repoUrl.length);
  // The harness's scratch build (bench/lib/build.ts): <scratch>/build/dist/src/… and <scratch>/build/servers/….
  const built = /\/build\/dist\/((?:src|generated)\/.*)$/.exec(url) ?? /\/build\/(servers\/.*)$/.exec(url);
  if (built?.[1]) return built[1].startsWith("servers/") ? `bench/${built[1]}` : built[1];
  return url.replace(/^file:\/\//, "");
}

function functionKey(frame: CallFrame): string {
  const name = frame.functionName || "(anonymous)";
  if (!frame.url) return name;
  const file = moduleOf(frame);
  const base = frame.url.startsWith("node:") ? file : frame.url.slice(frame.url.lastIndexOf("/") + 1);
  const where = file.includes("/") && !file.startsWith("@") ? file : `${file} ${base}`;
  return `${name} (${where}:${frame.lineNumber + 1})`;
}

/**
 * Self and inclusive time per function and module. `window` (ms from the start of the profile)
 * keeps only the samples taken in it: the load phase, without start-up and shutdown.
 */
export function analyse(profile: CpuProfile, window?: { fromMs: number; toMs: number }): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const self = new Map<string, Entry>();
  const moduleSelf = new Map<string, number>();
  const nodeSelf = new Map<ProfileNode, number>();
  const entry = (frame: CallFrame): Entry => {
    const key = functionKey(frame);
    let e = self.get(key);
    if (!e) {
      e = { key, module: moduleOf(frame), self: 0, total: 0 };
      self.set(key, e);
    }
    return e;
  };
  let idle = 0;
  let wall = (profile.endTime - profile.startTime) / 1000;
  if (window) wall = Math.max(0, Math.min(wall, window.toMs) - window.fromMs);
  let at = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    at += ms;
    if (window && (at < window.fromMs || at > window.toMs)) continue;
    const node = byId.get(profile.samples[i] as number);
    if (!node) continue;
    if (node.callFrame.functionName === "(idle)") {
      idle += ms;
      continue;
    }
    const leaf = entry(node.callFrame);
    leaf.self += ms;
    nodeSelf.set(node, (nodeSelf.get(node) ?? 0) + ms);
    const mod = moduleOf(node.callFrame);
    moduleSelf.set(mod, (moduleSelf.get(mod) ?? 0) + ms);
    // Inclusive: every distinct function on the stack, once.
    const seen = new Set<Entry>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)?.callFrame;
      if (!frame || frame.functionName === "(root)") continue;
      const e = entry(frame);
      if (!seen.has(e)) {
        seen.add(e);
        e.total += ms;
      }
    }
  }
  const lines = new Map<string, LineEntry>();
  for (const [node, ms] of nodeSelf) {
    const module = moduleOf(node.callFrame);
    const ticks = node.positionTicks ?? [];
    const all = ticks.reduce((sum, t) => sum + t.ticks, 0);
    if (!(module.startsWith("src/") || module.startsWith("generated/")) || all === 0) continue;
    for (const t of ticks) {
      const key = `${module}:${t.line}`;
      let e = lines.get(key);
      if (!e) {
        e = { key, module, url: node.callFrame.url, line: t.line, self: 0 };
        lines.set(key, e);
      }
      e.self += (ms * t.ticks) / all;
    }
  }
  return {
    wallMs: wall,
    busyMs: wall - idle,
    lines: [...lines.values()].sort((a, b) => b.self - a.self),
    functions: [...self.values()].sort((a, b) => b.self - a.self),
    modules: [...moduleSelf.entries()].map(([module, s]) => ({ module, self: s })).sort((a, b) => b.self - a.self),
  };
}

export function loadProfile(file: string): CpuProfile {
  return JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
}

const pct = (ms: number, of: number) => `${((100 * ms) / of).toFixed(1).padStart(5)} %`;

/** Plain-text tables: top modules, top functions by self time, and (filtered) by inclusive time. */
export function formatSummary(summary: ProfileSummary, options: { top?: number; filter?: string } = {}): string {
  const top = options.top ?? 20;
  const busy = summary.busyMs || 1;
  const lines = [
    `busy ${summary.busyMs.toFixed(0)} ms of ${summary.wallMs.toFixed(0)} ms wall (${pct(summary.busyMs, summary.wallMs).trim()})`,
    "",
    "self time by module:",
    ...summary.modules.slice(0, top).map((m) => `  ${pct(m.self, busy)}  ${m.module}`),
    "",
    "self time by function:",
    ...summary.functions.slice(0, top).map((f) => `  ${pct(f.self, busy)}  ${f.key}`),
  ];
  if (options.filter) {
    const filter = options.filter;
    const mine = summary.functions
      .filter((f) => f.module.startsWith(filter))
      .sort((a, b) => b.total - a.total)
      .slice(0, top);
    lines.push(
      "",
      `inclusive time, functions in ${filter}:`,
      ...mine.map((f) => `  ${pct(f.total, busy)} incl ${pct(f.self, busy)} self  ${f.key}`),
    );
  }
  return lines.join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith("--"));
  if (!file) {
    console.error("usage: npx tsx bench/lib/cpuprofile.ts <file.cpuprofile> [--top N] [--filter src/]");
    process.exit(2);
  }
  const opt = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const top = Number(opt("--top") ?? 25);
  const filter = opt("--filter");
  console.log(formatSummary(analyse(loadProfile(file)), { top, ...(filter ? { filter } : {}) }));
}
