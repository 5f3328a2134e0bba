/**
 * Settings of the shipped tools, from environment variables, each with a default. They are read
 * once, on first use (not at import), so a `.env` file loaded at startup is seen; relative paths
 * are resolved against the working directory at that moment. Documented in docs/tools.md.
 */
import { resolve } from "node:path";

export interface ShippedSettings {
  /** CODEBASE_ROOT: the folder anonymous callers (and callers without search.read) search. */
  codebaseRoot: string;
  /** CODEBASE_ROOT_SIGNED_IN: the folder callers holding search.read search. */
  codebaseRootSignedIn: string;
  /** CODEBASE_MAX_FILE_BYTES: files larger than this are skipped. */
  codebaseMaxFileBytes: number;
  /** CODEBASE_MAX_FILES: at most this many files are read by one search. */
  codebaseMaxFiles: number;
  /** CODEBASE_SEARCH_TIMEOUT_MS: the time budget of one search, walk and regex scan included. */
  codebaseSearchTimeoutMs: number;
  /** DOCS_DIR: the folder docs.create writes into. */
  docsDir: string;
  /** DOCS_MAX_FILES: docs.create refuses a new document when the folder holds this many files. */
  docsMaxFiles: number;
  /** DOCS_MAX_BYTES: docs.create refuses a write that would take the folder's files past this many bytes. */
  docsMaxBytes: number;
  /** MEMORY_DB: the SQLite database of the memory tools. */
  memoryDb: string;
  /** MEMORY_MAX_PER_USER: local_memory_store refuses a user holding this many memories. */
  memoryMaxPerUser: number;
  /** MEMORY_MAX_BYTES_PER_USER: local_memory_store refuses a memory that would take its user past this many bytes. */
  memoryMaxBytesPerUser: number;
}

/** A setting that cannot be used; the message names the variable. */
export class SettingsError extends Error {
  override readonly name = "SettingsError";
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max)
    throw new SettingsError(
      `environment variable ${name} must be an integer from ${min} to ${max}, not "${raw.slice(0, 20)}"`,
    );
  return Number(raw);
}

function path(env: NodeJS.ProcessEnv, name: string, fallback: string, cwd: string): string {
  const raw = env[name];
  const value = raw === undefined || raw.trim() === "" ? fallback : raw;
  if (value.includes("\u0000")) throw new SettingsError(`environment variable ${name} contains a NUL character`);
  return resolve(cwd, value);
}

/** Reads the settings from `env` (pure: no caching, no file system access). */
export function readSettings(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): ShippedSettings {
  const dataDir = env.DATA_DIR?.trim() ? env.DATA_DIR : "data";
  const codebaseRoot = path(env, "CODEBASE_ROOT", ".", cwd);
  return {
    codebaseRoot,
    codebaseRootSignedIn: env.CODEBASE_ROOT_SIGNED_IN?.trim()
      ? path(env, "CODEBASE_ROOT_SIGNED_IN", ".", cwd)
      : codebaseRoot,
    codebaseMaxFileBytes: integer(env, "CODEBASE_MAX_FILE_BYTES", 1024 * 1024, 1, 256 * 1024 * 1024),
    codebaseMaxFiles: integer(env, "CODEBASE_MAX_FILES", 20_000, 1, 10_000_000),
    codebaseSearchTimeoutMs: integer(env, "CODEBASE_SEARCH_TIMEOUT_MS", 2000, 50, 600_000),
    docsDir: path(env, "DOCS_DIR", `${dataDir}/docs`, cwd),
    docsMaxFiles: integer(env, "DOCS_MAX_FILES", 10_000, 1, 100_000_000),
    docsMaxBytes: integer(env, "DOCS_MAX_BYTES", 1024 ** 3, 1, 2 ** 50),
    memoryDb: path(env, "MEMORY_DB", `${dataDir}/memory.sqlite`, cwd),
    memoryMaxPerUser: integer(env, "MEMORY_MAX_PER_USER", 10_000, 1, 100_000_000),
    memoryMaxBytesPerUser: integer(env, "MEMORY_MAX_BYTES_PER_USER", 64 * 1024 ** 2, 1, 2 ** 50),
  };
}

let current: ShippedSettings | undefined;

/** The settings of this process, read from `process.env` on first use. */
export function settings(): ShippedSettings {
  current ??= readSettings();
  return current;
}

/**
 * Forgets the settings read so far, so the next `settings()` reads `process.env` again — or uses
 * `replacement` when given. For tests that start servers with different folders in one process.
 */
export function resetSettings(replacement?: ShippedSettings): void {
  current = replacement;
}
