/**
 * toolgate as `npm start` runs it — compiled JavaScript on plain node, no tsx — from the build the
 * harness made with the project's own `tsc -p tsconfig.build.json` into a scratch folder
 * (BENCH_TOOLGATE_DIST=<build>/dist; see bench/lib/build.ts). Configured from the environment
 * (PORT, HOST, AUTH_MODE, AUTH_CONFIG_FILE, DATA_DIR, …) like src/main.ts, without the .env step;
 * SIGTERM/SIGINT stop it gracefully, so `node --cpu-prof` writes its profile.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const dist = process.env.BENCH_TOOLGATE_DIST;
if (!dist) throw new Error("BENCH_TOOLGATE_DIST must name the compiled dist/ folder");
const { startServer, stopOnSignals } = await import(pathToFileURL(join(dist, "src", "server.js")).href);
// The runtime serves the project it is given (`startServer({ project })`, generated/project.js):
// BENCH_PROJECT_ROOT, a scale project transpiled next to the build (bench/scenarios/codegen.ts), or
// BENCH_TOOLGATE_PROJECT (e.g. examples/bench-echo) inside the build; neither: the shipped tools.
const projectFile = process.env.BENCH_PROJECT_ROOT
  ? join(process.env.BENCH_PROJECT_ROOT, "generated", "project.js")
  : join(dist, process.env.BENCH_TOOLGATE_PROJECT || "", "generated", "project.js");
if (process.env.BENCH_PROJECT_ROOT && !existsSync(projectFile))
  throw new Error(`no compiled project at ${projectFile}`);
const options = existsSync(projectFile)
  ? { project: (await import(pathToFileURL(projectFile).href)).project }
  : undefined;
const running = await startServer(options);
stopOnSignals(running);
