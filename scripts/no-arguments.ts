/**
 * For a script that takes no arguments: `--help`/`-h` prints its usage and exits 0; anything else is
 * refused in one line, exit 2 (it would otherwise start as if nothing were said).
 */
export function takeNoArguments(name: string, usage: string, args = process.argv.slice(2)): void {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(usage);
    process.exit(0);
  }
  if (args.length > 0) {
    console.error(`${name}: takes no arguments, not ${args.map((a) => JSON.stringify(a)).join(" ")} (--help)`);
    process.exit(2);
  }
}
