import { readFileSync } from "node:fs";
import { parseEnv } from "node:util";

/**
 * Loads a `.env` file into `env` the way `process.loadEnvFile` does (a variable already in the
 * environment wins), with one difference: a variable set to the empty string in the environment
 * while `.env` gives it a value takes `.env`'s value. toolgate reads an empty variable as unset
 * (auth.yaml's `${AUTH0_DOMAIN:-}`), so `AUTH0_DOMAIN=` from a compose file would otherwise silently
 * hide the tenant `.env` names. Returns the names of those variables, for a notice; throws
 * ENOENT when the file does not exist.
 */
export function loadEnvFile(file: string, env: NodeJS.ProcessEnv = process.env): { emptyReplaced: string[] } {
  const parsed = parseEnv(readFileSync(file, "utf8")) as Record<string, string>;
  const emptyReplaced: string[] = [];
  for (const [name, value] of Object.entries(parsed)) {
    if (env[name] === undefined) env[name] = value;
    else if (env[name] === "" && value !== "") {
      env[name] = value;
      emptyReplaced.push(name);
    }
  }
  return { emptyReplaced };
}
