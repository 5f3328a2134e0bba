/** What the run ran on and with: machine, load, package versions, commit. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { join } from "node:path";
import { canPin, REPO } from "./proc.js";

export interface MachineInfo {
  cpu: string;
  cores: number;
  memGiB: number;
  kernel: string;
  node: string;
  /** Server on core 0, load generator on core 1 (false: taskset missing or fewer than 2 cores). */
  pinned: boolean;
  /** 1-minute load average when the run started and ended: > 0.5 means something else was running. */
  loadStart: number;
  loadEnd?: number;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? "unknown",
    cores: list.length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    pinned: canPin,
    loadStart: loadavg()[0] ?? 0,
  };
}

const PACKAGES = [
  "@modelcontextprotocol/server",
  "@modelcontextprotocol/express",
  "@modelcontextprotocol/node",
  "@modelcontextprotocol/sdk",
  "tmcp",
  "@tmcp/transport-http",
  "@tmcp/adapter-zod",
  "@hono/node-server",
  "zod",
  "express",
  "jose",
  "pino",
  "ajv",
  "autocannon",
  "tsx",
];

function version(dir: string): string {
  try {
    return (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "not installed";
  }
}

export function versions(): Record<string, string> {
  const out: Record<string, string> = { toolgate: version(REPO), node: process.version };
  for (const name of PACKAGES) out[name] = version(join(REPO, "node_modules", name));
  return out;
}

/** The checked-out commit (read-only git), with "+dirty" when the work tree has changes. */
export function commit(): string {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], {
      cwd: REPO,
      encoding: "utf8",
    }).trim();
    return dirty ? `${head}+dirty` : head;
  } catch {
    return "unknown";
  }
}
