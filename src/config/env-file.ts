import { readFileSync } from "node:fs";
import { parseEnv } from "node:util";

/**
 * Loads a `.env` file into `env` the way `process.loadEnvFile` does (a variable already in the
 * environment wins), with one difference: a variable set to the empty string in the environment
 * while `.env` gives it a value takes `.env`'s value. toolgate reads an empty variable as unset
 * (auth.yaml's `${AUTH0_DOMAIN:-}`), so `AUTH0_DOMAIN=` from a compose file would otherwise silently
 * hide the tenant `.env` names. Returns the names of those variables, for a notice; throws
 * ENOENT when the file does not exist, and an Error naming the line when a line is not NAME=value.
 */
export function loadEnvFile(file: string, env: NodeJS.ProcessEnv = process.env): { emptyReplaced: string[] } {
  const text = readFileSync(file, "utf8");
  const parsed = parseEnv(text) as Record<string, string>;
  // A line without "=" sets nothing, silently: last in the file it is skipped, and before another
  // line Node's parser reads it as the start of that line's name ("LOG_LEVEL info\nAUTH_MODE=oauth2"
  // sets one variable of that whole name), so the setting there is lost too. Such a file is refused,
  // naming the line. (Lines of a quoted value that spans lines are not such lines.)
  const spanned = new Set(
    Object.values(parsed)
      .filter((value) => value.includes("\n"))
      .flatMap((value) => value.split("\n").map((line) => line.trim())),
  );
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.includes("=")) continue;
    // the last line of a quoted value ends with its closing quote (and perhaps a comment)
    if (spanned.has(line) || spanned.has(line.replace(/["'`]\s*(#.*)?$/, "").trimEnd())) continue;
    throw new Error(
      `${file}:${i + 1}: ${JSON.stringify(line.slice(0, 40))} is not NAME=value: it sets nothing and can hide the setting on the line after it; fix or remove that line`,
    );
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
