/**
 * toolgate as `npm start` runs it (src/main.ts without the .env step): `startServer()` configured
 * from the environment the harness passes (PORT, HOST, AUTH_MODE, AUTH_CONFIG_FILE, DATA_DIR, …),
 * graceful stop on SIGTERM/SIGINT so `node --cpu-prof` can write its profile.
 *
 * The project is BENCH_TOOLGATE_PROJECT (a folder of the repository, e.g. examples/bench-echo) or
 * BENCH_PROJECT_ROOT (any project root); neither: the repository's own tools. This is the `--source`
 * launcher; compiled runs use bench/servers/toolgate-dist.mjs.
 */

import { stopOnSignals } from "../../src/server.js";
import { REPO } from "../lib/proc.js";
import { loadStart } from "../lib/project.js";

const project = process.env.BENCH_TOOLGATE_PROJECT;
const start = await loadStart(project ? `${REPO}/${project}` : process.env.BENCH_PROJECT_ROOT);
const running = await start();
stopOnSignals(running);
