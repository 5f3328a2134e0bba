/**
 * `npm run dev`: runs the server and restarts it when tools.yaml, auth.yaml or src/ change.
 * A YAML change is regenerated first; when the generator reports errors they are printed and the
 * last good server keeps running — also through later src/ changes, until a generate succeeds.
 *
 * The YAML files are watched through the project folder, not one by one: an editor that saves by
 * writing a temporary file and renaming it over the original (JetBrains "safe write", `sed -i`,
 * `git checkout`) replaces the file's inode, and a watcher on the old inode would hear nothing more.
 *
 * The server is spawned with an IPC channel: when this process dies without stopping it (SIGKILL,
 * a crash), the channel closes and the server shuts down gracefully instead of holding the port.
 * This process stops on SIGINT, SIGTERM and SIGHUP, and when its parent exits: npm passes a SIGTERM
 * on to the shell it runs the script in, and Debian's and Ubuntu's sh dies without passing it on.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { watch } from "node:fs";
import { readFile } from "node:fs/promises";
import { join, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { formatDiagnostic } from "../src/config/diagnostics.js";
import { onParentExit } from "../src/parent-exit.js";
import { runGenerator } from "./generator/pipeline.js";
import { takeNoArguments } from "./no-arguments.js";

const USAGE = `usage: npm run dev
  Runs the server (src/main.ts, from sources) and restarts it when tools.yaml, auth.yaml or src/
  change; a YAML change is regenerated first (npm run generate). Takes no options: the server reads
  its settings from the environment and .env (README).`;
takeNoArguments("dev", USAGE);

const root = fileURLToPath(new URL("..", import.meta.url));
const parent = process.ppid;
const YAML_FILES = ["tools.yaml", "auth.yaml"];
let child: ChildProcess | undefined;
let timer: NodeJS.Timeout | undefined;
let pending = new Set<string>();
let busy = false;
/** The last generate run failed: no restart on src/ changes until one succeeds. */
let generateFailed = false;
/**
 * Handler stubs a generate run created (`src/handlers/<tool>.ts`), with the content it wrote: the
 * src/ watcher reports their creation, which is not a change of the user's (the restart after the
 * generate already loads them). An entry is dropped at the first event that finds other content.
 */
const stubs = new Map<string, string>();

function startChild() {
  child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: root,
    // "ipc": src/main.ts shuts down when the channel closes: stopChild() closes it, and so does
    // this process's death.
    stdio: ["inherit", "inherit", "inherit", "ipc"],
    // TOOLGATE_DEV: no startup check that generated/ matches tools.yaml (src/main.ts). This process
    // regenerates before every start, and when it cannot, it has said that the last generated code runs.
    env: { ...process.env, TOOLGATE_DEV: "1" },
  });
  const started = child;
  started.on("exit", (code, signal) => {
    if (child === started && signal === null)
      console.error(`[dev] server exited with code ${code}; waiting for a change`);
  });
}

/** How long a server may take to finish its requests in flight before it is killed. */
const STOP_TIMEOUT_MS = 5_000;

/**
 * Stops the server by closing its IPC channel, which it takes as SIGTERM (graceful: requests in
 * flight finish). Not by a signal: on Windows kill() ends a process at once, whatever the signal.
 */
async function stopChild() {
  const current = child;
  child = undefined;
  if (!current || current.exitCode !== null || current.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => current.once("exit", () => resolve()));
  if (current.connected) current.disconnect();
  const timer = setTimeout(() => current.kill(), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

async function generate(): Promise<boolean> {
  const result = await runGenerator({ root, mode: "write" });
  for (const d of result.diagnostics) console.error(formatDiagnostic(d));
  for (const warning of result.warnings ?? []) console.error(`[dev] warning: ${warning}`);
  generateFailed = !result.ok;
  for (const f of result.handlers) {
    console.error(`[dev] created ${f}`);
    stubs.set(f, await readFile(join(root, f), "utf8").catch(() => ""));
  }
  return result.ok;
}

/** Drops the handler stubs that still hold what the generator wrote. */
async function withoutStubs(files: Set<string>): Promise<string[]> {
  const changed: string[] = [];
  for (const f of files) {
    const written = stubs.get(f);
    if (written !== undefined) {
      const now = await readFile(join(root, f), "utf8").catch(() => undefined);
      if (now === written) continue;
      stubs.delete(f);
    }
    changed.push(f);
  }
  return changed;
}

async function onChanges(files: Set<string>) {
  const changed = await withoutStubs(files);
  if (changed.length === 0) return;
  const yaml = changed.some((f) => YAML_FILES.includes(f));
  if (yaml) {
    if (!(await generate())) {
      console.error("[dev] generate failed: the last good server keeps running");
      return;
    }
  } else if (generateFailed) {
    console.error(
      `[dev] ${changed.join(", ")} changed: not restarting while ${YAML_FILES.join(" or ")} has errors (the last good server keeps running); fix the YAML first`,
    );
    return;
  }
  console.error(`[dev] ${changed.join(", ")} changed: restarting`);
  await stopChild();
  startChild();
}

function schedule(file: string) {
  pending.add(file);
  clearTimeout(timer);
  timer = setTimeout(async () => {
    if (busy) return schedule(file);
    busy = true;
    const files = pending;
    pending = new Set();
    try {
      await onChanges(files);
    } finally {
      busy = false;
    }
  }, 150);
}

const onWatchError = (what: string) => (error: Error) =>
  console.error(`[dev] watching ${what} failed (${(error as NodeJS.ErrnoException).code ?? error.message})`);
// The folder, not the files: see the top of this file. Everything else in it is ignored.
watch(root, (_event, name) => {
  if (name && YAML_FILES.includes(name)) schedule(name);
}).on("error", onWatchError("the project folder"));
watch(join(root, "src"), { recursive: true }, (_event, name) => {
  if (name && /\.(ts|json)$/.test(name)) schedule(`src/${name.split(sep).join("/")}`);
}).on("error", onWatchError("src/"));

if (!(await generate()))
  console.error("[dev] generate failed: fix the errors above; the server starts from the last generated code");
startChild();
const stop = async () => {
  await stopChild();
  process.exit(0);
};
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, stop);
onParentExit(parent, stop);
