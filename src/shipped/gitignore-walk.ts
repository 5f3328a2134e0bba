/**
 * Walks a folder the way `git status` sees it: `.gitignore` files at every level (a deeper file's
 * rules override a shallower one's, `!pattern` re-includes), `.git` and `node_modules` always
 * skipped, symbolic links never followed (but a linked `.gitignore` is read), only regular files yielded. Order is deterministic
 * (names sorted, files of a folder before its subfolders).
 */
import type { Dirent } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import ignore, { type Ignore } from "ignore";
import { openRegularFile, readInto } from "./regular-file.js";

/** Skipped wherever they are, whatever a `.gitignore` says. */
export const ALWAYS_SKIPPED: ReadonlySet<string> = new Set([".git", "node_modules"]);

/** `.git`, `node_modules`, and environment files (`.env`, `.env.local`…: secrets even when not git-ignored). */
export const isAlwaysSkipped = (name: string): boolean =>
  ALWAYS_SKIPPED.has(name) || (/^\.env(\..+)?$/.test(name) && name !== ".env.example");

/** The rules of one `.gitignore`, and the folder (relative to the root, `/`-separated, "" = root) they apply below. */
export interface IgnoreLevel {
  readonly base: string;
  readonly rules: Ignore;
}

/** A `.gitignore` larger than this is read only up to it. */
const MAX_GITIGNORE_BYTES = 512 * 1024;

/** Whether `rel` (a path relative to the root, `/`-separated) is ignored by `levels` (shallowest first). */
export function isIgnored(levels: readonly IgnoreLevel[], rel: string, isDirectory: boolean): boolean {
  let ignored = false;
  for (const { base, rules } of levels) {
    if (base !== "" && !rel.startsWith(`${base}/`)) continue;
    const sub = base === "" ? rel : rel.slice(base.length + 1);
    try {
      const result = rules.test(isDirectory ? `${sub}/` : sub);
      if (result.ignored) ignored = true;
      else if (result.unignored) ignored = false;
    } catch {
      return true; // a name the matcher cannot read: fail closed
    }
  }
  return ignored;
}

/**
 * Reads `<dir>/.gitignore` when it is a regular file or a symbolic link to one, at most
 * MAX_GITIGNORE_BYTES of it. A link is followed (unlike git ≥ 2.32, which ignores a linked
 * .gitignore): its rules only ever hide files, and a search open to anonymous callers must not show
 * what a repository meant to hide. A FIFO or device is refused without waiting on it: a cloned
 * repository may hold `.gitignore -> /dev/zero`, which would otherwise be read without end.
 */
export async function loadIgnoreLevel(root: string, base: string): Promise<IgnoreLevel | undefined> {
  const file = await openRegularFile(join(root, base, ".gitignore"), { followLink: true });
  if (!file) return undefined; // none, a FIFO or device, unreadable: no rules
  try {
    const buffer = Buffer.allocUnsafe(Math.min(file.size, MAX_GITIGNORE_BYTES));
    const length = await readInto(file.handle, buffer);
    return { base, rules: ignore().add(buffer.toString("utf8", 0, length)) };
  } catch {
    return undefined;
  } finally {
    await file.handle.close().catch(() => {});
  }
}

/**
 * The `.gitignore` rules that apply inside `startRel` (a folder below the root, "" for the root),
 * read from the root down. Returns undefined when `startRel` itself, or a folder on the way to it,
 * is skipped or ignored.
 */
export async function levelsFor(root: string, startRel: string): Promise<IgnoreLevel[] | undefined> {
  const levels: IgnoreLevel[] = [];
  const rootLevel = await loadIgnoreLevel(root, "");
  if (rootLevel) levels.push(rootLevel);
  const segments = startRel === "" ? [] : startRel.split("/");
  for (let i = 0; i < segments.length; i++) {
    const rel = segments.slice(0, i + 1).join("/");
    if (isAlwaysSkipped(segments[i] as string) || isIgnored(levels, rel, true)) return undefined;
    const level = await loadIgnoreLevel(root, rel);
    if (level) levels.push(level);
  }
  return levels;
}

export interface WalkedFile {
  /** Relative to the root, `/`-separated. */
  readonly rel: string;
  readonly abs: string;
}

/**
 * Yields the regular files below `startRel` (a folder, relative to `root`) that are not ignored.
 * `levels` are the rules that apply at `startRel` (from `levelsFor`). Stops when `signal` aborts.
 */
export async function* walkFiles(
  root: string,
  startRel: string,
  levels: readonly IgnoreLevel[],
  signal?: AbortSignal,
): AsyncGenerator<WalkedFile> {
  const stack: { rel: string; levels: readonly IgnoreLevel[] }[] = [{ rel: startRel, levels }];
  while (stack.length > 0) {
    if (signal?.aborted) return;
    const dir = stack.pop()!;
    let entries: Dirent[];
    try {
      entries = await readdir(join(root, dir.rel), { withFileTypes: true });
    } catch {
      continue; // vanished or unreadable
    }
    let dirLevels = dir.levels;
    // The start folder's own .gitignore is already in `levels`.
    if (dir.rel !== startRel && entries.some((e) => e.name === ".gitignore")) {
      const own = await loadIgnoreLevel(root, dir.rel);
      if (own) dirLevels = [...dirLevels, own];
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const subdirs: string[] = [];
    for (const entry of entries) {
      if (signal?.aborted) return;
      // Symbolic links are never followed (they may lead out of the root); sockets, FIFOs and devices are skipped.
      if (entry.isSymbolicLink() || isAlwaysSkipped(entry.name)) continue;
      const isDirectory = entry.isDirectory();
      if (!isDirectory && !entry.isFile()) continue;
      const rel = dir.rel === "" ? entry.name : `${dir.rel}/${entry.name}`;
      if (isIgnored(dirLevels, rel, isDirectory)) continue;
      if (isDirectory) subdirs.push(rel);
      else yield { rel, abs: join(root, rel) };
    }
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push({ rel: subdirs[i] as string, levels: dirLevels });
  }
}
