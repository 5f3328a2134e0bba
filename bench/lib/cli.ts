import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type ParseArgsConfig, parseArgs } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * `parseArgs` for the bench's entry points: `--help`/`-h` prints the script's first doc comment (its
 * usage) and exits; an unknown or malformed option is one line on stderr and exit code 2, not a stack trace.
 */
export function cli<const O extends Options>(url: string, options: O) {
  try {
    const { values } = parseArgs({ options: { ...options, help: { type: "boolean", short: "h" } } });
    if ((values as { help?: boolean }).help) {
      const source = readFileSync(fileURLToPath(url), "utf8");
      console.log(source.slice(source.indexOf("/**") + 3, source.indexOf("*/")).replace(/^ \* ?/gm, ""));
      process.exit(0);
    }
    return values as ReturnType<typeof parseArgs<{ options: O }>>["values"];
  } catch (error) {
    // One line: parseArgs words some errors over three (an argument that starts with a dash).
    usageError((error as Error).message.replace(/\s*\n\s*/g, " "));
  }
}

/** A bad option value: one line on stderr (the option, the value, what it takes) and exit code 2, before anything starts. */
export function usageError(message: string): never {
  console.error(`${message} (--help lists the options)`);
  process.exit(2);
}

/**
 * `--name`'s value as a whole number ≥ `min` (`fallback` when the option is not given). Whole: the
 * counts are counts, and autocannon runs whole seconds (`duration: 0.5` runs ~1 s, bench/README.md).
 */
export function wholeNumber(name: string, value: string | undefined, min: number, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  const n = Number(value);
  if (value === undefined || !/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min)
    usageError(`--${name} ${JSON.stringify(value ?? "")}: takes a whole number ≥ ${min}`);
  return n;
}

/** `--name`'s comma-separated names, each one of `allowed`. */
export function namesFrom(name: string, value: string | undefined, allowed: readonly string[]): string[] {
  const names = (value ?? "").split(",").filter(Boolean);
  const unknown = names.filter((n) => !allowed.includes(n));
  if (unknown.length)
    usageError(`--${name} ${JSON.stringify(value)}: unknown ${unknown.join(", ")}; takes ${allowed.join(", ")}`);
  return names;
}
