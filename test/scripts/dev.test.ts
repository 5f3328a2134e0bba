/**
 * `npm run dev` (scripts/dev.ts) as a user runs it, in a throw-away copy of the project (scripts/,
 * src/, generated/, the YAML; node_modules linked): restarts on editor-style atomic saves, keeps the
 * last good server through src/ changes while auth.yaml is broken, restarts once for a new tool,
 * and its server goes away when the dev process is killed outright, or when `npm run dev` is sent
 * SIGTERM (npm passes it on to the shell it runs the script in, which need not pass it on).
 *
 * One dev process for the whole file (start-up costs seconds); the tests run in order and the last
 * one kills it. It runs in its own process group, so afterAll can kill whatever is left of it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { realpathSync } from "node:fs";
import { appendFile, readFile, rename, symlink, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createTempProject, REPO, type TempProject } from "../helpers/temp-project.js";

let project: TempProject;
let dev: ChildProcess;
let npmDev: ChildProcess | undefined;
let output = "";
let port = 0;
let env: NodeJS.ProcessEnv = {};

const listening = () => output.split('"toolgate is listening"').length - 1;
/** How many servers have shut down for `why` (the "signal" of their shutdown line). */
const shutdowns = (why: string) => output.split(`"signal":"${why}"`).length - 1;
const healthz = () =>
  fetch(`http://127.0.0.1:${port}/healthz`).then(
    (r) => r.status,
    () => 0,
  );
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` holds; fails after `ms` with what the dev process printed. */
async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 9_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; npm run dev printed:\n${output}`);
    await sleep(50);
  }
}

/** A save the way JetBrains' safe write, `sed -i` or `git checkout` do it: a new file renamed over the old. */
async function atomicSave(file: string, content: string): Promise<void> {
  const temporary = join(project.root, `.${file}.tmp-${Date.now()}`);
  await writeFile(temporary, content);
  await rename(temporary, join(project.root, file));
}

/** A free port in 3900-3999 (the range these tests use for servers that cannot take port 0). */
async function freePort(): Promise<number> {
  for (let candidate = 3900 + Math.floor(Math.random() * 100), tries = 0; tries < 100; tries++) {
    const p = 3900 + ((candidate + tries) % 100);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once("error", () => resolve(false));
      server.listen(p, "127.0.0.1", () => server.close(() => resolve(true)));
    });
    if (free) return p;
  }
  throw new Error("no free port in 3900-3999");
}

/** The test's environment without the settings that would take the server off the defaults these tests expect. */
const devEnv = () =>
  Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(AUTH0_|MCP_|REQUIRED_SCOPES|AUTH_CONFIG_FILE$|ALLOWED_)/.test(k)),
  );

beforeAll(async () => {
  project = await createTempProject({
    prefix: "toolgate-dev-",
    copy: ["package.json", "tsconfig.json", "scripts", "src", "generated"],
  });
  await symlink(realpathSync(join(REPO, "node_modules")), join(project.root, "node_modules"), "junction");
  port = await freePort();
  env = {
    ...devEnv(),
    PORT: String(port),
    HOST: "127.0.0.1",
    AUTH_MODE: "anonymous",
    LOG_LEVEL: "info",
  };
  dev = spawnInProject(process.execPath, ["--import", "tsx", "scripts/dev.ts"]);
  await waitFor("the first server", () => listening() === 1, 40_000);
});

/** Spawns in the project, in a process group of its own, adding what it prints to `output`. */
function spawnInProject(command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { cwd: project.root, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  child.stdout!.on("data", (c: Buffer) => {
    output += c;
  });
  child.stderr!.on("data", (c: Buffer) => {
    output += c;
  });
  return child;
}

/** Whether any process of the group `pid` leads is left. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

afterAll(async () => {
  // A dev process and its server share the process group (also after the dev process died).
  for (const pid of [dev?.pid, npmDev?.pid])
    if (pid)
      try {
        process.kill(-pid, "SIGKILL");
      } catch {}
  await project?.remove();
});

it("restarts on every atomic save of tools.yaml, not only the first", async () => {
  const tools = await project.read("tools.yaml");
  // The second save is the one a watcher on the first inode misses.
  for (const n of [1, 2]) {
    const before = listening();
    await atomicSave("tools.yaml", `${tools}# atomic save ${n}\n`);
    await waitFor(`the restart after atomic save ${n}`, () => listening() === before + 1);
    // The old server was stopped by closing its IPC channel (graceful on Windows too), not by a signal.
    expect(shutdowns("disconnect")).toBe(n);
  }
  expect(shutdowns("SIGTERM")).toBe(0);
  expect(await healthz()).toBe(200);
}, 20_000);

it("keeps the last good server through src/ changes while auth.yaml is broken", async () => {
  const auth = await project.read("auth.yaml");
  const before = listening();
  await writeFile(join(project.root, "auth.yaml"), `${auth}mode: [broken\n`);
  try {
    await waitFor("the failed generate", () => output.includes("[dev] generate failed"));
    await appendFile(join(project.root, "src", "main.ts"), "// touched by the dev test\n");
    await waitFor("the src/ change to be seen", () => output.includes("[dev] src/main.ts changed"));
    expect(output).toContain("[dev] src/main.ts changed: not restarting while tools.yaml or auth.yaml has errors");
    expect(listening()).toBe(before);
    expect(await healthz()).toBe(200);
  } finally {
    // Fixing the YAML restarts (with the src/ change).
    await atomicSave("auth.yaml", auth);
  }
  await waitFor("the restart after the fix", () => listening() === before + 1);
  expect(await healthz()).toBe(200);
}, 20_000);

it("restarts once for a new tool, not again for the handler stub the generator created", async () => {
  const tools = await project.read("tools.yaml");
  const tool = [
    "  dev_test_ping:",
    "    title: Ping",
    "    description: Answers pong.",
    "    input: { type: object, additionalProperties: false, properties: {} }",
    "    output:",
    "      type: object",
    "      additionalProperties: false",
    "      required: [pong]",
    "      properties: { pong: { type: boolean, description: Always true. } }",
    "    securitySchemes: [{ type: noauth }]",
    "",
  ].join("\n");
  const before = listening();
  const restarts = () => output.split("changed: restarting").length - 1;
  const restartsBefore = restarts();
  await atomicSave("tools.yaml", tools.replace(/\ntools:\n/, `\ntools:\n${tool}`));
  await waitFor("the restart for the new tool", () => listening() === before + 1);
  expect(output).toContain("[dev] created src/handlers/dev_test_ping.ts");
  await sleep(1_000);
  expect(restarts() - restartsBefore, output).toBe(1);
  expect(listening()).toBe(before + 1);

  // Editing the stub afterwards is a change like any other.
  await appendFile(join(project.root, "src", "handlers", "dev_test_ping.ts"), "// edited\n");
  await waitFor("the restart after editing the stub", () => listening() === before + 2);
  expect(output).toContain("[dev] src/handlers/dev_test_ping.ts changed: restarting");
  expect(await readFile(join(project.root, "src", "handlers", "dev_test_ping.ts"), "utf8")).toContain("// edited");
}, 20_000);

it("starts from the last generated code when tools.yaml has errors, without the startup check's warning", async () => {
  // The check that generated/ matches tools.yaml is npm start's: npm run dev regenerates before every
  // start, and says itself when it cannot. A dev process of its own, started with a broken tools.yaml.
  const broken = await createTempProject({
    prefix: "toolgate-dev-broken-",
    copy: ["package.json", "tsconfig.json", "scripts", "src", "generated"],
    tools: `${await project.read("tools.yaml")}  broken: [\n`,
  });
  await symlink(realpathSync(join(REPO, "node_modules")), join(broken.root, "node_modules"), "junction");
  const brokenPort = await freePort();
  let printed = "";
  const other = spawn(process.execPath, ["--import", "tsx", "scripts/dev.ts"], {
    cwd: broken.root,
    env: { ...devEnv(), PORT: String(brokenPort), HOST: "127.0.0.1", AUTH_MODE: "anonymous", LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  other.stdout!.on("data", (c: Buffer) => {
    printed += c;
  });
  other.stderr!.on("data", (c: Buffer) => {
    printed += c;
  });
  try {
    const end = Date.now() + 40_000;
    while (!printed.includes('"toolgate is listening"') && Date.now() < end) await sleep(50);
    expect(printed).toContain('"toolgate is listening"');
    expect(printed).toContain(
      "[dev] generate failed: fix the errors above; the server starts from the last generated code",
    );
    expect(printed).not.toContain("changed since the last npm run generate");
  } finally {
    try {
      process.kill(-other.pid!, "SIGKILL");
    } catch {}
    await broken.remove();
  }
}, 60_000);

it("the server shuts down when the dev process is killed with SIGKILL", async () => {
  expect(await healthz()).toBe(200);
  const before = shutdowns("disconnect");
  const exited = new Promise<void>((resolve) => dev.once("exit", () => resolve()));
  dev.kill("SIGKILL");
  await exited;
  await waitFor("the server to stop listening", async () => (await healthz()) === 0, 10_000);
  await waitFor("the server's shutdown line", () => shutdowns("disconnect") === before + 1, 2_000);
}, 20_000);

it.skipIf(process.platform === "win32")(
  "SIGTERM to `npm run dev` stops the dev process and its server, though npm passes it only to sh",
  async () => {
    const before = listening();
    // A port free now: the first one may have been taken since beforeAll.
    port = await freePort();
    env.PORT = String(port);
    const npm = spawnInProject("npm", ["run", "dev", "--silent"]);
    npmDev = npm;
    await waitFor("the server of npm run dev", () => listening() === before + 1, 40_000);
    expect(await healthz()).toBe(200);
    const exited = new Promise<void>((resolve) => npm.once("exit", () => resolve()));
    npm.kill("SIGTERM");
    await exited;
    await waitFor("the server to stop listening", async () => (await healthz()) === 0, 10_000);
    // npm, sh, the dev process and the server were its whole process group.
    await waitFor("the dev process to exit", () => !groupAlive(npm.pid!), 5_000);
  },
  60_000,
);
