/**
 * toolgate as `npm start` runs it (src/main.ts without the .env step): `startServer()` configured
 * from the environment the harness passes (PORT, HOST, AUTH_MODE, AUTH_CONFIG_FILE, DATA_DIR, …),
 * graceful stop on SIGTERM/SIGINT so `node --cpu-prof` can write its profile.
 *
 * Multi-project support plugs in here: `loadStart()` picks how to start the server for the project
 * the harness names in BENCH_PROJECT_ROOT (see bench/lib/project.ts). Until the runtime can serve
 * another project's generated/ code, only the repository's own project is served.
 */

import { stopOnSignals } from "../../src/server.js";
import { REPO } from "../lib/proc.js";
import { loadStart } from "../lib/project.js";

const project = process.env.BENCH_TOOLGATE_PROJECT;
const start = await loadStart(project ? `${REPO}/${project}` : process.env.BENCH_PROJECT_ROOT);
const running = await start();
stopOnSignals(running);
