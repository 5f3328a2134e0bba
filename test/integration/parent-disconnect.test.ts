/**
 * stopOnSignals(…, { parentDisconnect: true, parentPid }), what src/main.ts uses: a server spawned
 * with an IPC channel (`npm run dev`) stops gracefully when the channel closes, even when it closed
 * before the server had finished starting; without a channel (`npm start`) nothing changes, unless
 * parentPid is given (src/main.ts does under npm): then the server stops when that parent exits.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { afterEach, expect, it } from "vitest";
import { REPO } from "../helpers/temp-project.js";

// A stand-in for src/main.ts: "starts" after `delay` ms, then registers the handlers.
const SCRIPT = `
const parentPid = process.env.STOP_WITH_PARENT ? process.ppid : undefined;
const { stopOnSignals } = await import("./src/server.ts");
await new Promise((r) => setTimeout(r, Number(process.env.DELAY)));
stopOnSignals({ close: async () => console.log("closed") }, { parentDisconnect: true, parentPid });
console.log("ready");
setInterval(() => {}, 1000);
`;

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

function run(ipc: boolean, delay: number) {
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", SCRIPT], {
    cwd: REPO,
    env: { ...process.env, DELAY: String(delay) },
    stdio: ["ignore", "pipe", "inherit", ...(ipc ? (["ipc"] as const) : [])],
  });
  children.push(child);
  let output = "";
  child.stdout!.on("data", (c: Buffer) => {
    output += c;
  });
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  // The exit code, or "running" when the process is still there after 8 s.
  const exited = Promise.race([exit, new Promise<"running">((r) => setTimeout(() => r("running"), 8_000).unref())]);
  const waitFor = async (text: string) => {
    for (let i = 0; i < 200 && !output.includes(text); i++) await new Promise((r) => setTimeout(r, 50));
    expect(output).toContain(text);
  };
  return { child, exited, waitFor, output: () => output };
}

it("stops gracefully when the parent's IPC channel closes", async () => {
  const server = run(true, 0);
  await server.waitFor("ready");
  server.child.disconnect();
  expect(await server.exited).toBe(0);
  expect(server.output()).toContain("closed");
}, 20_000);

it("stops when the channel closed while the server was starting", async () => {
  const server = run(true, 500);
  server.child.disconnect();
  expect(await server.exited).toBe(0);
  expect(server.output()).toContain("closed");
}, 20_000);

// On Windows SIGTERM ends a process at once (no "closed").
it.skipIf(process.platform === "win32")(
  "without an IPC channel (npm start) keeps running",
  async () => {
    const server = run(false, 0);
    await server.waitFor("ready");
    await new Promise((r) => setTimeout(r, 300));
    expect(server.child.exitCode).toBe(null);
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    expect(server.output()).toContain("closed");
  },
  20_000,
);

it.skipIf(process.platform === "win32")(
  "with parentPid and no channel, stops when that parent exits: SIGTERM to an sh that does not pass it on",
  async () => {
    // npm start: npm → sh -c "node …" → node. `; :` keeps any sh from exec'ing node (dash never does).
    const shell = spawn("sh", ["-c", '"$NODE" --import tsx --input-type=module -e "$SCRIPT"; :'], {
      cwd: REPO,
      env: { ...process.env, NODE: process.execPath, SCRIPT, DELAY: "0", STOP_WITH_PARENT: "1" },
      stdio: ["ignore", "pipe", "inherit"],
      detached: true,
    });
    let output = "";
    shell.stdout!.on("data", (c: Buffer) => {
      output += c;
    });
    // The node process outlives the shell: the pipe closes when it has exited.
    const closed = new Promise<void>((resolve) => shell.stdout!.on("close", () => resolve()));
    try {
      for (let i = 0; i < 200 && !output.includes("ready"); i++) await new Promise((r) => setTimeout(r, 50));
      expect(output).toContain("ready");
      shell.kill("SIGTERM");
      const timeout = new Promise<"running">((r) => setTimeout(() => r("running"), 8_000).unref());
      expect(await Promise.race([closed.then(() => "exited"), timeout])).toBe("exited");
      expect(output).toContain("closed");
    } finally {
      try {
        process.kill(-shell.pid!, "SIGKILL");
      } catch {}
    }
  },
  20_000,
);
