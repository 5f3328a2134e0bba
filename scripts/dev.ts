/**
 * `npm run dev`: runs the server and restarts it when tools.yaml, auth.yaml or src/ change.
 * A YAML change is regenerated first; when the generator reports errors they are printed and the
 * last good server keeps running.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { watch } from "node:fs";
import { fileURLToPath } from "node:url";
import { formatDiagnostic } from "../src/config/diagnostics.js";
import { runGenerator } from "./generator/pipeline.js";

const root = fileURLToPath(new URL("..", import.meta.url));
let child: ChildProcess | undefined;
let timer: NodeJS.Timeout | undefined;
let pending = new Set<string>();
let busy = false;

function startChild() {
  child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: root,
    stdio: "inherit",
    env: process.env,
  });
  const started = child;
  started.on("exit", (code, signal) => {
    if (child === started && signal === null)
      console.error(`[dev] server exited with code ${code}; waiting for a change`);
  });
}

async function stopChild() {
  const current = child;
  child = undefined;
  if (!current || current.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    current.once("exit", () => resolve());
    current.kill("SIGTERM");
  });
}

async function onChanges(files: Set<string>) {
  const yaml = [...files].some((f) => f === "tools.yaml" || f === "auth.yaml");
  if (yaml) {
    const result = await runGenerator({ root, mode: "write" });
    for (const d of result.diagnostics) console.error(formatDiagnostic(d));
    if (!result.ok) {
      console.error("[dev] generate failed: the last good server keeps running");
      return;
    }
    for (const f of result.handlers) console.error(`[dev] created ${f}`);
  }
  console.error(`[dev] ${[...files].join(", ")} changed: restarting`);
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

for (const file of ["tools.yaml", "auth.yaml"]) watch(`${root}/${file}`, () => schedule(file));
watch(`${root}/src`, { recursive: true }, (_event, name) => {
  if (name && /\.(ts|json)$/.test(name)) schedule(`src/${name}`);
});

const initial = await runGenerator({ root, mode: "write" });
for (const d of initial.diagnostics) console.error(formatDiagnostic(d));
if (!initial.ok)
  console.error("[dev] generate failed: fix the errors above; the server starts from the last generated code");
startChild();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, async () => {
    await stopChild();
    process.exit(0);
  });
}
