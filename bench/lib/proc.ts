/**
 * Child processes and scratch folders of the benchmark: children spawned pinned to a core
 * (`taskset`), tracked, and killed on every way out (normal exit, an error, Ctrl-C, SIGTERM, SIGHUP);
 * scratch folders removed then. Only processes started here are killed, each by its own pid (or its
 * own process group, for the compiler: `execTracked`).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { rm } from "node:fs/promises";
import { createServer } from "node:net";
import { constants, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));

/** The core the servers run on, and the one the load generator (this process) runs on. */
export const SERVER_CORE = 0;
export const LOAD_CORE = 1;

interface Tracked {
  /** Started in a process group of its own, killed as a group (`execTracked`). */
  group: boolean;
  /** Resolves on 'close': the process has exited and whoever shared its output pipes too. */
  closed: Promise<void>;
}
const children = new Map<ChildProcess, Tracked>();
const scratch = new Set<string>();
let hooksInstalled = false;
/** Set by the first signal or fatal error: from then on the bench only cleans up. */
let stopping: string | undefined;
let stoppingSince = 0;
let repeatNoted = false;
/** stderr, kept for the bench's own lines once the run's output is muted (`mute`). */
const writeErr = process.stderr.write.bind(process.stderr);

/**
 * Once stopping, the run's code goes on until the process exits, and fails at every step as its
 * children are killed ("FAILED: … no new child process" for each mode left, the next part's
 * heading): none of that is news, so its output is dropped.
 */
function mute(): void {
  const drop = (() => true) as typeof process.stdout.write;
  process.stdout.write = drop;
  process.stderr.write = drop;
}

/** Removes `dir` when the bench exits, whichever way (unless `forget`-ed first, e.g. for --keep). */
export function removeOnExit(dir: string): void {
  installHooks();
  scratch.add(dir);
}
export function forget(dir: string): void {
  scratch.delete(dir);
}

/**
 * A new folder `<parent>/<prefix>XXXXXX`, removed on exit (removeOnExit). Created synchronously and
 * registered at once: a signal handler runs between two turns of the event loop, so it never sees a
 * folder that exists but is not registered yet (with an awaited mkdtemp it could, and the folder
 * was left behind).
 */
export function scratchDir(prefix: string, parent = tmpdir()): string {
  installHooks();
  if (stopping) throw new Error(`bench: stopping (${stopping}), no new scratch folder`);
  const dir = mkdtempSync(join(parent, prefix));
  scratch.add(dir);
  return dir;
}

function track(child: ChildProcess, group: boolean): void {
  installHooks();
  const closed = new Promise<void>((resolve) => {
    child.once("close", () => resolve());
    // Never started (e.g. ENOENT): no 'close' to wait for.
    child.once("error", () => child.pid === undefined && resolve());
  });
  children.set(child, { group, closed });
  void closed.then(() => children.delete(child));
  // Started while stopping (the run's code goes on until the process exits): gone at once.
  if (stopping) killAll();
}

function killAll(signal: NodeJS.Signals = "SIGKILL"): void {
  for (const [child, { group }] of children) {
    if (child.pid === undefined) continue;
    // A group is killed even when its leader has exited: a member may still be running.
    if (!group && (child.exitCode !== null || child.signalCode !== null)) continue;
    try {
      process.kill(group ? -child.pid : child.pid, signal);
    } catch {
      // already gone
    }
  }
}

/**
 * Kills every child, waits until they are gone (so none writes into a folder being removed), removes
 * the scratch folders, exits with `code`. Asynchronous on purpose: the event loop keeps turning, so a
 * repeated signal is answered. tsx (4.x, `relaySignals`), which runs the bench as its child, relays
 * each SIGINT it receives (npm forwards one, the terminal sends one to the whole group) and SIGKILLs
 * its child when the child does not acknowledge it within 30 ms — tsx's own handler in the child
 * does that, when the event loop turns. A synchronous clean-up in the `exit` hook could be killed
 * that way halfway through an rmSync, leaving folders behind.
 */
async function stop(code: number): Promise<void> {
  const deadline = performance.now() + 5_000;
  killAll();
  // 'close', not 'exit': for a group, the compiler under the wrapper holds the output pipes too.
  const waits = [...children.values()].map((c) => c.closed);
  await Promise.race([Promise.all(waits), sleep(deadline - performance.now())]);
  await Promise.all(
    [...scratch].map((dir) =>
      rm(dir, { recursive: true, force: true, maxRetries: 3 }).then(
        () => scratch.delete(dir),
        () => undefined, // the exit hook tries again
      ),
    ),
  );
  process.exit(code);
}

/**
 * Resolves at once, or never once the bench is stopping (stop() exits the process meanwhile). The
 * run's code goes on after a signal, its parts failing fast as nothing new may start: awaited before
 * a run writes its results, so a run cut short writes nothing — a full run would otherwise have
 * replaced latest.json and docs/performance.md with a table of failures.
 */
export function unlessStopping(): Promise<void> {
  return stopping ? new Promise<void>(() => {}) : Promise.resolve();
}

function fatal(line: string): void {
  // Once stopping, the run's own code fails as its children are killed: not news.
  if (stopping) return;
  stopping = "error";
  stoppingSince = performance.now();
  writeErr(line);
  mute();
  void stop(1);
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // The last resort, synchronous: a normal process.exit() or one from stop() (nothing left then).
  process.on("exit", () => {
    killAll();
    for (const dir of scratch) {
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // nothing more can be done on the way out
      }
    }
  });
  // Handled for the whole life of the process (`on`, not `once`): a second signal while stopping
  // must not meet the default action, which ends the process halfway through the clean-up.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      if (stopping) {
        // Relayed copies of the same Ctrl-C come within milliseconds (npm, tsx, the terminal's
        // group): silent. A later one is somebody pressing again: one line, once.
        if (repeatNoted || performance.now() - stoppingSince < 500) return;
        repeatNoted = true;
        writeErr(`bench: ${signal} again: still stopping (killing children, removing scratch folders)\n`);
        return;
      }
      stopping = signal;
      stoppingSince = performance.now();
      writeErr(`\nbench: ${signal}, stopping ${children.size} child process(es)\n`);
      mute();
      void stop(128 + constants.signals[signal]);
    });
  }
  process.on("uncaughtException", (error) => fatal(`bench: ${error.stack ?? error}\n`));
  process.on("unhandledRejection", (error) =>
    fatal(`bench: unhandled rejection: ${(error as Error)?.stack ?? error}\n`),
  );
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
  if (stopping) throw new Error(`bench: stopping (${stopping}), no new child process`);
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
  track(child, false);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
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

/**
 * Runs `file args` to completion, like `execFile` (resolves with its output, rejects with `stdout`
 * and `stderr` on the error when it fails), in a process group of its own that is killed as a whole
 * on every way out. For tsc: `node_modules/.bin/tsc` is a node wrapper that runs the native compiler
 * as its own child on Node 20 (no process.execve there), so killing the wrapper alone (or a Ctrl-C that
 * never reached the untracked compiler) left it writing into a scratch folder already removed.
 */
export function execTracked(file: string, args: string[], cwd = REPO): Promise<{ stdout: string; stderr: string }> {
  if (stopping) return Promise.reject(new Error(`bench: stopping (${stopping}), ${file} not started`));
  const child = spawn(file, args, { cwd, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  track(child, true);
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (text: string) => {
    stdout += text;
  });
  child.stderr?.setEncoding("utf8").on("data", (text: string) => {
    stderr += text;
  });
  return new Promise((resolve, reject) => {
    child.once("error", (error) => reject(Object.assign(error, { stdout, stderr })));
    // 'close': the output pipes are closed too, i.e. the compiler under the wrapper has exited as well.
    child.once("close", (code, signal) => {
      if (code === 0) resolve({ stdout, stderr });
      else
        reject(
          Object.assign(new Error(`${file} ${args.join(" ")}: ${signal ?? `exit code ${code}`}`), { stdout, stderr }),
        );
    });
  });
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
