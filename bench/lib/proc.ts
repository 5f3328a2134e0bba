/**
 * Child processes of the benchmark: spawned pinned to a core (`taskset`), tracked, and killed on
 * every way out (normal exit, an error, Ctrl-C, SIGTERM). Only processes started here are killed,
 * each by its own pid.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));

/** The core the servers run on, and the one the load generator (this process) runs on. */
export const SERVER_CORE = 0;
export const LOAD_CORE = 1;

const children = new Set<ChildProcess>();
const scratch = new Set<string>();
let hooksInstalled = false;

/** Removes `dir` when the bench exits, whichever way (unless `forget`-ed first, e.g. for --keep). */
export function removeOnExit(dir: string): void {
  installHooks();
  scratch.add(dir);
}
export function forget(dir: string): void {
  scratch.delete(dir);
}

function killAll(signal: NodeJS.Signals = "SIGKILL"): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, signal);
      } catch {
        // already gone
      }
    }
  }
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", () => {
    killAll();
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping ${children.size} child process(es)\n`);
      killAll();
      process.exit(130);
    });
  }
  process.on("uncaughtException", (error) => {
    process.stderr.write(`bench: ${error.stack ?? error}\n`);
    killAll();
    process.exit(1);
  });
  process.on("unhandledRejection", (error) => {
    process.stderr.write(`bench: unhandled rejection: ${(error as Error)?.stack ?? error}\n`);
    killAll();
    process.exit(1);
  });
}

/** Whether `taskset` exists and the machine has the two cores the benchmark pins to. */
export const canPin = ((): boolean => {
  try {
    execFileSync("taskset", ["-p", String(process.pid)], { stdio: "ignore" });
    const cpus = readFileSync("/proc/self/status", "utf8").match(/Cpus_allowed_list:\s*(\S+)/)?.[1] ?? "";
    return /(^|,)0(-|,|$)/.test(cpus) && cpus !== "0";
  } catch {
    return false;
  }
})();

/** Pins this process and all its threads (autocannon runs in it) to the load generator's core. */
export function pinSelf(core = LOAD_CORE): void {
  if (!canPin) return;
  execFileSync("taskset", ["-a", "-p", "-c", String(core), String(process.pid)], { stdio: "ignore" });
}

export interface SpawnOptions {
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Core to pin the child to; undefined: not pinned. */
  core?: number;
  /** File receiving the child's stdout and stderr ("ignore" discards them). */
  logFile?: string;
  cwd?: string;
}

export interface Child {
  pid: number;
  process: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** Spawns `node <args>` (pinned with taskset when possible); the child is killed when the bench exits. */
export function spawnNode(options: SpawnOptions): Child {
  installHooks();
  const fd = options.logFile ? openSync(options.logFile, "a") : undefined;
  const stdio = fd === undefined ? "ignore" : fd;
  // `taskset -c N node …` execs node: the pid we get is node's own, as /proc/<pid>/status needs.
  const [cmd, argv] =
    canPin && options.core !== undefined
      ? ["taskset", ["-c", String(options.core), process.execPath, ...options.args]]
      : [process.execPath, options.args];
  const child = spawn(cmd, argv as string[], {
    cwd: options.cwd ?? REPO,
    env: options.env ?? process.env,
    stdio: ["ignore", stdio, stdio],
  });
  if (fd !== undefined) closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not spawn ${cmd}`);
  children.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  const pid = child.pid;
  return {
    pid,
    process: child,
    exited,
    async stop(graceMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** `node --import tsx <file>`: runs a TypeScript file of the bench or of the project. */
export const tsxArgs = (file: string, ...rest: string[]): string[] => ["--import", "tsx", file, ...rest];

/** A free TCP port on 127.0.0.1 (asked from the kernel, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resident memory of a process in MiB, from /proc/<pid>/status (VmRSS; VmHWM is the peak). */
export function memoryMiB(pid: number): { rss: number; peak: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key: string) => Number(status.match(new RegExp(`${key}:\\s*(\\d+) kB`))?.[1] ?? Number.NaN);
    return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
  } catch {
    return undefined;
  }
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU time (user + system, all threads) a process has used, in ms, from /proc/<pid>/stat. Unlike
 * throughput, CPU per request hardly moves when other processes compete for the core.
 */
export function cpuTimeMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // After the command: state is field 3; utime and stime are fields 14 and 15 (1-based).
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/**
 * Polls `url` until it answers 200 (or the child exits, or `timeoutMs` passes). Returns the time
 * from `since` (performance.now()) to the first 200.
 */
export async function waitReady(url: string, child: Child, since: number, timeoutMs = 30_000): Promise<number> {
  let exited = false;
  void child.exited.then(() => {
    exited = true;
  });
  const deadline = since + timeoutMs;
  while (performance.now() < deadline) {
    if (exited) throw new Error(`the server exited before it was ready (${url})`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.status === 200) return performance.now() - since;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`the server did not become ready within ${timeoutMs} ms (${url})`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
