/**
 * `npm start`: loads `.env` when present (a variable set empty in the environment takes `.env`'s
 * value), starts the server (warning, or in production refusing, when tools.yaml changed since the
 * last `npm run generate`), and shuts down gracefully on SIGTERM/SIGINT (in-flight calls finish; a
 * second signal exits at once). Under `npm run dev` (spawned with an IPC channel) also when that
 * channel closes: the dev process is gone. Under `npm start`, also when the shell npm ran this in
 * exits: npm passes a SIGTERM on to that shell only (see onParentExit).
 */

import { project } from "../generated/project.js";
import { ConfigError } from "./config/diagnostics.js";
import { loadEnvFile } from "./config/env-file.js";
import { EnvError } from "./config/server-config.js";
import { startServer, stopOnSignals } from "./server.js";

/** Run by an npm script: the parent to stop with, taken before start-up (which may outlast it). */
const npmParent = process.env.npm_lifecycle_event ? process.ppid : undefined;

try {
  const { emptyReplaced } = loadEnvFile(".env");
  for (const name of emptyReplaced)
    console.error(`toolgate: ${name} is set to an empty value in the environment; using its value from .env`);
} catch (error) {
  if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
    console.error(`toolgate: cannot read .env: ${(error as Error).message}`);
    process.exit(1);
  }
}

try {
  // tools.yaml beside auth.yaml, in the project folder. `npm run dev` regenerates before every start
  // and says itself when it serves the last generated code: no check under it. It is known by the
  // variable it sets *and* the IPC channel it opens, never in production: TOOLGATE_DEV=1 left in a
  // deployment's environment does not turn the check (and its production refusal) off.
  const underDev =
    process.env.TOOLGATE_DEV === "1" && process.send !== undefined && process.env.NODE_ENV !== "production";
  const running = await startServer({
    project,
    ...(underDev ? {} : { toolsFile: "tools.yaml" }),
  });
  stopOnSignals(running, { parentDisconnect: true, parentPid: npmParent });
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code;
  if (error instanceof ConfigError)
    console.error(
      `toolgate: ${error.message}\nEach code is explained in docs/diagnostics.md (npm run generate -- --explain CODE).`,
    );
  else if (error instanceof EnvError) console.error(`toolgate: ${error.message}`);
  else if (code === "EADDRINUSE")
    console.error(`toolgate: port ${process.env.PORT ?? 3000} is in use: stop the other server or set PORT`);
  else if (code === "EACCES")
    console.error(`toolgate: not allowed to listen on port ${process.env.PORT ?? 3000}: choose another PORT`);
  else if (code === "ENOTFOUND" || code === "EAI_AGAIN")
    console.error(
      `toolgate: HOST=${JSON.stringify(process.env.HOST)} is not a name this machine can resolve: set HOST to an address (127.0.0.1, 0.0.0.0, ::) or a resolvable name`,
    );
  else if (code === "EADDRNOTAVAIL")
    console.error(
      `toolgate: HOST=${JSON.stringify(process.env.HOST)} is not an address of this machine: set HOST to one of its addresses, or 0.0.0.0 for all`,
    );
  else console.error(`toolgate: ${(error as Error).message}`);
  process.exit(1);
}
