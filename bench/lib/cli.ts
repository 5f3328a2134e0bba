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
    console.error(`${(error as Error).message} (--help lists the options)`);
    process.exit(2);
  }
}
