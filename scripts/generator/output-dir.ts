import { randomBytes } from "node:crypto";
import { existsSync, renameSync, rmSync } from "node:fs";
import { lstat, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";

export type RenderedFiles = Map<string, string>;

export interface Drift {
  stale: string[];
  missing: string[];
  extra: string[];
}

async function listFiles(dir: string, base = dir): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries) {
    const full = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(full, base)));
    else out.push(relative(base, full).split("\\").join("/"));
  }
  return out.sort();
}

/** The text of each of `names` under `dir` (absent when the file cannot be read). */
async function readAll(dir: string, names: string[]): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  await inParallel(names, async (name) => {
    const text = await readFile(join(dir, name), "utf8").catch(() => undefined);
    if (text !== undefined) texts.set(name, text);
  });
  return texts;
}

/**
 * Whether a file on disk holds what was rendered. CRLF line ends on disk count as LF: a Windows
 * checkout with core.autocrlf=true made before .gitattributes pinned LF has them, and git commits
 * the file with LF all the same.
 */
const sameText = (onDisk: string, rendered: string) =>
  onDisk === rendered || onDisk.replaceAll("\r\n", "\n") === rendered;

/** Compares rendered files with what is on disk in `dir`, writing nothing. */
export async function compareWithDisk(dir: string, files: RenderedFiles): Promise<Drift> {
  const onDisk = await listFiles(dir);
  const drift: Drift = { stale: [], missing: [], extra: [] };
  const current = await readAll(dir, [...files.keys()]);
  for (const [name, content] of files) {
    const text = current.get(name);
    if (text === undefined) drift.missing.push(name);
    else if (!sameText(text, content)) drift.stale.push(name);
  }
  drift.extra = onDisk.filter((f) => !files.has(f));
  return drift;
}

/**
 * Runs `task` on every item, `limit` at a time (one write after another costs a round trip to the
 * thread pool each: seconds for a few thousand files). Every started task settles before this
 * returns; after a failure no new one starts, and the first failure is thrown.
 */
export async function inParallel<T>(
  items: Iterable<T>,
  task: (item: T) => Promise<unknown>,
  limit = 16,
): Promise<void> {
  const queue = [...items];
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < queue.length && !failure) {
      const item = queue[next++] as T;
      try {
        await task(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, queue.length) }, worker));
  if (failure) throw failure.error;
}

/**
 * The file-system calls that move and remove what the generator writes, in one object so that
 * tests can make them fail. On Windows they fail with EPERM, EBUSY or EACCES while another process
 * (an editor, the search indexer, a virus scanner) has a file in the way open, usually briefly:
 * renameRetrying() and remove() try again. scaffold() writes each handler stub's temporary file
 * with `writeFile`.
 */
export const fileSystem = { rename, rm, writeFile };

const BUSY_CODES = new Set(["EPERM", "EBUSY", "EACCES"]);
/** Waits between the attempts of a rename: about 3 s in all. */
const RENAME_DELAYS_MS = [100, 200, 400, 800, 1600];

async function renameRetrying(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fileSystem.rename(from, to);
    } catch (error) {
      const delay = RENAME_DELAYS_MS[attempt];
      if (delay === undefined || !BUSY_CODES.has((error as NodeJS.ErrnoException).code ?? "")) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** rm -rf, retried by rm itself (EBUSY, EPERM…: 100 ms more each time, 1.5 s in all). */
const remove = (path: string) => fileSystem.rm(path, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });

/**
 * Why `dir` cannot be the output folder, or undefined when it can (a real folder, or nothing yet).
 * replaceDirectory() renames a new folder into `dir`'s place: a symbolic link there would be
 * replaced by a real folder, its target silently left as it was, and a file would be moved aside.
 * Refused rather than followed: swapping beside the link's target would write, and tidy, in a
 * folder outside the project that other things may share.
 */
export async function outputFolderProblem(dir: string): Promise<string | undefined> {
  const info = await lstat(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  const name = `${basename(dir)}/`;
  if (!info || info.isDirectory()) return undefined;
  if (info.isSymbolicLink())
    return `${name} is a symbolic link: generate replaces ${name} whole by renaming a new folder into its place, which would replace the link with a real folder and leave its target stale; make ${name} a real folder (move the target's content into it) and generate again`;
  return `${name} is not a folder: generate replaces it whole and would move it aside; remove or rename it and generate again`;
}

/**
 * Replaces `dir` with exactly `files`: everything is written to a sibling temporary folder first and
 * swapped in by rename, so a failure at any point leaves the previous folder intact. SIGINT or
 * SIGTERM meanwhile removes the temporary folder (and puts the previous one back if it was moved
 * away) before the process ends; what a harder kill leaves, recoverDirectory() tidies on the next run.
 *
 * Returns warnings: a previous folder that could not be removed after the swap is one (`dir` is
 * new all the same; the next run's recoverDirectory() tries again), not a failure.
 */
export async function replaceDirectory(dir: string, files: RenderedFiles): Promise<string[]> {
  const problem = await outputFolderProblem(dir);
  if (problem) throw new Error(problem);
  const parent = dirname(dir);
  const tag = `${process.pid}-${randomBytes(4).toString("hex")}`;
  const staging = join(parent, `.${basename(dir)}.new-${tag}`);
  const previous = join(parent, `.${basename(dir)}.old-${tag}`);
  const onSignal = () => {
    // Decided from the folders, not from a flag set after `rename` resolves: a signal handled
    // between the rename and its continuation would otherwise leave no `dir`.
    if (!existsSync(dir) && existsSync(previous)) renameSync(previous, dir);
    removeSyncWhileWritten(staging);
  };
  whileUnderway.add(onSignal);
  updateSignalListeners();
  try {
    await mkdir(staging, { recursive: true });
    for (const folder of new Set([...files.keys()].map((name) => dirname(join(staging, name)))))
      await mkdir(folder, { recursive: true });
    await inParallel(files, ([name, content]) => writeFile(join(staging, name), content));
    const hadPrevious = await renameRetrying(dir, previous).then(
      () => true,
      (e: NodeJS.ErrnoException) => {
        if (e.code === "ENOENT") return false;
        throw e;
      },
    );
    try {
      await renameRetrying(staging, dir);
    } catch (error) {
      if (hadPrevious) await renameRetrying(previous, dir);
      throw error;
    }
    if (!hadPrevious) return [];
    return await remove(previous).then(
      () => [],
      (error: NodeJS.ErrnoException) => [
        `${basename(dir)}/ was replaced, but its previous version ${basename(previous)} could not be removed (${error.code ?? error.message}): the next run tries again`,
      ],
    );
  } finally {
    whileUnderway.delete(onSignal);
    updateSignalListeners();
    await remove(staging);
  }
}

/**
 * rm -rf of a folder the thread pool may still be creating files in (writes under way when a signal
 * came): rmdir then fails with ENOTEMPTY, and rmSync's own retries only retry the rmdir. Each pass
 * here empties the folder again; no new write starts meanwhile, as this thread is the one that
 * would start it.
 */
function removeSyncWhileWritten(path: string): void {
  for (let pass = 1; ; pass++) {
    try {
      rmSync(path, { recursive: true, force: true, maxRetries: 1, retryDelay: 20 });
      return;
    } catch (error) {
      if (pass === 10 || (error as NodeJS.ErrnoException).code !== "ENOTEMPTY") throw error;
    }
  }
}

/** The synchronous clean-ups of the replaceDirectory() calls under way, run on SIGINT / SIGTERM. */
const whileUnderway = new Set<() => void>();
const SIGNALS = ["SIGINT", "SIGTERM"] as const;

function onTerminatingSignal(signal: NodeJS.Signals): void {
  for (const cleanup of whileUnderway) {
    try {
      cleanup();
    } catch {
      // the next run's recoverDirectory() tidies what is left
    }
  }
  whileUnderway.clear();
  updateSignalListeners();
  // Listening took the signal's default action away: give it back, unless someone else listens
  // (then they were told too, and ending the process is theirs).
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function updateSignalListeners(): void {
  const listening = process.listeners("SIGINT").includes(onTerminatingSignal);
  if (whileUnderway.size > 0 && !listening) for (const s of SIGNALS) process.on(s, onTerminatingSignal);
  else if (whileUnderway.size === 0 && listening) for (const s of SIGNALS) process.off(s, onTerminatingSignal);
}

/**
 * The entries of `parent` that `pattern` matches and whose process no longer runs: the temporaries a
 * killed run left (`pattern`'s group `pid` is the pid of the process that made them). Those of a
 * process still running, this one included, are not listed.
 */
export async function deadLeftovers(parent: string, pattern: RegExp): Promise<RegExpExecArray[]> {
  const found: RegExpExecArray[] = [];
  for (const entry of await readdir(parent).catch(() => [] as string[])) {
    const match = pattern.exec(entry);
    if (match && !processRuns(Number(match.groups?.pid))) found.push(match);
  }
  return found;
}

/** The temporary siblings writeFileAtomic() and scaffold() write, `.<name>.new-<pid>-<hex>`; `name` is a regular-expression source. */
export const temporaryPattern = (name: string): RegExp =>
  new RegExp(`^\\.(?<name>${name})\\.new-(?<pid>\\d+)-[0-9a-f]+$`);

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Removes `path`, or says why it could not, as a warning for the user: a leftover that cannot be
 * removed (no permission, a file held open on Windows) must not stop the run that found it.
 */
async function removeLeftover(parent: string, entry: string, notes: string[], warnings: string[]): Promise<void> {
  await remove(join(parent, entry)).then(
    () => notes.push(`removed ${entry}, left by an interrupted run`),
    (error: NodeJS.ErrnoException) =>
      warnings.push(
        `could not remove ${entry}, left by an interrupted run (${error.code ?? error.message}): the next run tries again; remove it yourself if it stays`,
      ),
  );
}

/**
 * What an interrupted replaceDirectory(dir) left beside `dir`, tidied (a process killed between its
 * two renames leaves `.<dir>.old-<pid>-…` and `.<dir>.new-<pid>-…` and no `dir`; one killed while
 * writing leaves `.<dir>.new-<pid>-…`): when `dir` is missing, the newest `.old-` folder becomes
 * `dir` again, the previous generated code; the other leftovers are removed. Folders of a process
 * still running (this one included) are left alone. Returns one line per action (`recovered`), for
 * the user, and a warning per leftover that could not be removed: only failing to put a missing
 * `dir` back throws.
 */
export async function recoverDirectory(dir: string): Promise<{ recovered: string[]; warnings: string[] }> {
  const parent = dirname(dir);
  const name = basename(dir);
  const pattern = new RegExp(`^\\.${escapeRegExp(name)}\\.(?<kind>old|new)-(?<pid>\\d+)-[0-9a-f]+$`);
  const leftovers: { entry: string; kind: string; mtimeMs: number }[] = [];
  for (const match of await deadLeftovers(parent, pattern)) {
    const info = await stat(join(parent, match[0])).catch(() => undefined);
    if (info?.isDirectory()) leftovers.push({ entry: match[0], kind: match.groups!.kind!, mtimeMs: info.mtimeMs });
  }
  const notes: string[] = [];
  const warnings: string[] = [];
  if (leftovers.length === 0) return { recovered: notes, warnings };
  const newestOld = leftovers.filter((l) => l.kind === "old").sort((a, b) => b.mtimeMs - a.mtimeMs)[0];
  if (newestOld && !existsSync(dir)) {
    await renameRetrying(join(parent, newestOld.entry), dir);
    notes.push(`${name}/ was missing: restored it from ${newestOld.entry}, left by an interrupted run`);
  }
  for (const { entry } of leftovers) {
    if (entry === newestOld?.entry && notes.length > 0) continue;
    await removeLeftover(parent, entry, notes, warnings);
  }
  return { recovered: notes, warnings };
}

function processRuns(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Writes one file whole or not at all: a temporary sibling first, then a rename over the target
 * (atomic on one file system), so a reader never sees half a file. Temporaries of this file that a
 * killed run left (`.<name>.new-<pid>-…` of a process no longer running) are removed first.
 */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  const parent = dirname(path);
  await mkdir(parent, { recursive: true });
  await tidyFileLeftovers(path);
  const temporary = join(parent, `.${basename(path)}.new-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    await writeFile(temporary, content);
    await renameRetrying(temporary, path);
  } finally {
    await remove(temporary);
  }
}

/** Removes the temporaries a dead process's writeFileAtomic left beside `path` (tidying only: never throws). */
export async function tidyFileLeftovers(path: string): Promise<void> {
  const parent = dirname(path);
  for (const stale of await deadLeftovers(parent, temporaryPattern(escapeRegExp(basename(path)))).catch(() => []))
    await remove(join(parent, stale[0])).catch(() => undefined);
}

/** Names of `files` (relative to `root`) whose content on disk differs (stale) or that are absent (missing). */
export async function compareFiles(root: string, files: RenderedFiles): Promise<Omit<Drift, "extra">> {
  const drift: Omit<Drift, "extra"> = { stale: [], missing: [] };
  const current = await readAll(root, [...files.keys()]);
  for (const [name, content] of files) {
    const text = current.get(name);
    if (text === undefined) drift.missing.push(name);
    else if (!sameText(text, content)) drift.stale.push(name);
  }
  return drift;
}

const basename = (p: string) => p.split(/[\\/]/).filter(Boolean).pop() ?? p;
