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
  // Every line outside a quoted value must be a comment or NAME=value with a name without white
  // space. Node's parser reads anything else without a word: a line without "=" last in the file is
  // skipped, and before another line it starts that line's name ("LOG_LEVEL info\nAUTH_MODE=oauth2"
  // sets one variable of that whole name); "AUTH_MODE oauth2 # was =x" sets a variable named
  // "AUTH_MODE oauth2 # was". Either way the setting meant is lost, so the file is refused.
  const lines = text.split(/\r?\n/);
  const quoted = quotedLines(lines);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (quoted.has(i) || line === "" || line.startsWith("#") || ASSIGNMENT.test(line)) continue;
    throw new Error(
      `${file}:${i + 1}: the line${startingWith(line)} is not NAME=value: it sets nothing and can hide the setting on the line after it; fix or remove that line`,
    );
  }
  // A second net, for whatever the line check lets through: no variable name holds white space.
  const odd = Object.keys(parsed).find((name) => /\s/.test(name));
  if (odd !== undefined)
    throw new Error(`${file}: a variable name${startingWith(odd)} holds white space; fix that line`);
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

/**
 * What an error may quote of a line that is not NAME=value: the name it seems to start with, never
 * what follows (`MCP_API_KEY tgk_…`, `AUTH0_CLIENT_SECRET: …`, a value wrapped onto the next line:
 * the rest is likely a secret, and this message goes to logs).
 */
function startingWith(line: string): string {
  // A variable name followed by what was meant as its separator (a space, `:`): a line that is one
  // bare word is quoted not at all — a value wrapped onto its own line (a base64 key) is one.
  const name = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]{0,63})(?=[\s:])/.exec(line)?.[1];
  return name === undefined ? "" : ` starting with ${name}`;
}

/** `NAME=` (after an optional `export`), NAME without white space, `=` or `#`. */
const ASSIGNMENT = /^(?:export\s+)?[^\s=#]+\s*=/;

/**
 * The lines after the first of each value in quotes that spans lines (`KEY="a` … `b"`), as Node's
 * parser reads them: a value opening with ", ' or ` and not closed on its line runs to the next
 * line holding that quote; never closed, it is a one-line value.
 */
function quotedLines(lines: readonly string[]): Set<number> {
  const inside = new Set<number>();
  for (let i = 0; i < lines.length; i++) {
    const open = /^\s*(?:export\s+)?[^\s=#]+\s*=\s*(["'`])(.*)$/.exec(lines[i] as string);
    if (!open) continue;
    const [, quote, rest] = open as unknown as [string, string, string];
    if (rest.includes(quote)) continue;
    let end = i + 1;
    while (end < lines.length && !(lines[end] as string).includes(quote)) end++;
    if (end === lines.length) continue;
    for (let k = i + 1; k <= end; k++) inside.add(k);
    i = end;
  }
  return inside;
}
