import { readFileSync } from "node:fs";
import { parseEnv } from "node:util";

/**
 * Loads a `.env` file into `env` the way `process.loadEnvFile` does (a variable already in the
 * environment wins), with one difference: a variable set to the empty string in the environment
 * while `.env` gives it a value takes `.env`'s value. toolgate reads an empty variable as unset
 * (auth.yaml's `${AUTH0_DOMAIN:-}`), so `AUTH0_DOMAIN=` from a compose file would otherwise silently
 * hide the tenant `.env` names. Returns the names of those variables, for a notice; throws
 * ENOENT when the file does not exist, and an Error naming the line when a name holds white space.
 */
export function loadEnvFile(file: string, env: NodeJS.ProcessEnv = process.env): { emptyReplaced: string[] } {
  const text = readFileSync(file, "utf8");
  const parsed = parseEnv(text) as Record<string, string>;
  for (const name of Object.keys(parsed)) {
    // Node's parser reads a line without "=" as the start of the next line's name
    // ("LOG_LEVEL info\nAUTH_MODE=oauth2" sets one variable of that whole name): the setting on the
    // next line would be lost without a word, so such a file is refused.
    if (/\s/.test(name)) {
      const line = text.slice(0, text.indexOf(name)).split("\n").length;
      const first = (name.split("\n")[0] as string).trim().slice(0, 40);
      throw new Error(
        `${file}:${line}: ${JSON.stringify(first)} is not NAME=value (a line without "=" swallows the name on the line after it); fix or remove that line`,
      );
    }
  }
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
