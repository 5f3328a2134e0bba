/**
 * Runs a node child to completion (pinned, tracked, killed on timeout) and returns the last line
 * of its stdout: the children of bench/children/ print one JSON line.
 */
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { forget, scratchDir, spawnNode } from "./proc.js";

export async function execChild(
  args: string[],
  options: { core?: number; timeoutMs: number; env?: NodeJS.ProcessEnv },
): Promise<string> {
  const dir = scratchDir("toolgate-bench-child-");
  const logFile = join(dir, "out.log");
  try {
    const child = spawnNode({
      args,
      logFile,
      ...(options.core !== undefined ? { core: options.core } : {}),
      ...(options.env ? { env: options.env } : {}),
    });
    const timer = setTimeout(() => void child.stop(1_000), options.timeoutMs);
    const { code, signal } = await child.exited;
    clearTimeout(timer);
    const out = await readFile(logFile, "utf8");
    const last = out
      .trim()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .pop();
    if (code !== 0 || last === undefined)
      throw new Error(
        `${args.join(" ")} ended with ${signal ?? `exit code ${code}`}${signal === "SIGTERM" ? " (timeout)" : ""}: ${out.slice(-500)}`,
      );
    return last;
  } finally {
    await rm(dir, { recursive: true, force: true });
    forget(dir);
  }
}
