/**
 * Starting one benchmark server: a fresh node process pinned to the server core, on a free port of
 * 127.0.0.1, with a clean environment (nothing of the caller's AUTH0_*, MCP_* or NODE_OPTIONS leaks
 * in), its output in a log file, ready when GET /healthz answers 200.
 */
import { join } from "node:path";
import {
  type Child,
  cpuTimeMs,
  freePort,
  memoryMiB,
  REPO,
  SERVER_CORE,
  spawnNode,
  tsxArgs,
  waitReady,
} from "./proc.js";

export type ServerKind = "baseline-v2" | "baseline-v1" | "tmcp" | "toolgate";

const ENTRY: Record<ServerKind, string> = {
  "baseline-v2": "bench/servers/baseline-v2.ts",
  "baseline-v1": "bench/servers/baseline-v1.ts",
  tmcp: "bench/servers/tmcp.ts",
  toolgate: "bench/servers/toolgate.ts",
};

/** The compiled servers (bench/lib/build.ts); undefined: run the sources through tsx. */
let build: { dist: string; servers: string } | undefined;
export function useBuild(compiled: { dist: string; servers: string } | undefined): void {
  build = compiled;
}

/** node arguments for a server: compiled JavaScript on plain node when built, else the sources through tsx. */
function entryArgs(kind: ServerKind, env: Record<string, string>): { args: string[]; env: Record<string, string> } {
  if (!build) return { args: tsxArgs(join(REPO, ENTRY[kind])), env };
  if (kind === "toolgate")
    return { args: [join(REPO, "bench/servers/toolgate-dist.mjs")], env: { ...env, BENCH_TOOLGATE_DIST: build.dist } };
  return { args: [join(build.servers, `${kind}.js`)], env };
}

export interface LaunchOptions {
  kind: ServerKind;
  env?: Record<string, string>;
  /** Folder for the log file. */
  dir: string;
  /** A name for the log file. */
  name: string;
  /**
   * `node --cpu-prof` into this folder. Node names the files CPU.<date>.<time>.<pid>.<thread>.<seq>;
   * the main thread is thread 0 (tsx's loader-hooks thread writes a profile of its own).
   */
  cpuProfileDir?: string;
  readyTimeoutMs?: number;
}

export interface Launched {
  kind: ServerKind;
  base: string;
  port: number;
  pid: number;
  /** Process spawn → first 200 from /healthz, ms. */
  readyMs: number;
  logFile: string;
  child: Child;
  rssMiB(): number | undefined;
  /** CPU time used so far (ms, all threads). */
  cpuMs(): number | undefined;
  stop(): Promise<void>;
}

/** The environment every server gets: only what node itself needs, plus the options. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = ["PATH", "HOME", "LANG", "TMPDIR", "TZ"];
  const env: NodeJS.ProcessEnv = {};
  for (const key of keep) if (process.env[key] !== undefined) env[key] = process.env[key];
  return { ...env, HOST: "127.0.0.1", ...extra };
}

export async function launch(options: LaunchOptions): Promise<Launched> {
  const port = await freePort();
  const logFile = join(options.dir, `${options.name}.log`);
  const profileArgs = options.cpuProfileDir
    ? ["--cpu-prof", "--cpu-prof-interval=500", `--cpu-prof-dir=${options.cpuProfileDir}`]
    : [];
  const entry = entryArgs(options.kind, { ...options.env, PORT: String(port) });
  const started = performance.now();
  const child = spawnNode({
    args: [...profileArgs, ...entry.args],
    env: cleanEnv(entry.env),
    core: SERVER_CORE,
    logFile,
  });
  const base = `http://127.0.0.1:${port}`;
  let readyMs: number;
  try {
    readyMs = await waitReady(`${base}/healthz`, child, started, options.readyTimeoutMs ?? 60_000);
  } catch (error) {
    await child.stop(1_000);
    throw new Error(`${options.name}: ${(error as Error).message}; see ${logFile}`);
  }
  return {
    kind: options.kind,
    base,
    port,
    pid: child.pid,
    readyMs,
    logFile,
    child,
    rssMiB: () => memoryMiB(child.pid)?.rss,
    cpuMs: () => cpuTimeMs(child.pid),
    stop: () => child.stop(),
  };
}
