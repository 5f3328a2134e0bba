import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
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

/** Compares rendered files with what is on disk in `dir`, writing nothing. */
export async function compareWithDisk(dir: string, files: RenderedFiles): Promise<Drift> {
  const onDisk = await listFiles(dir);
  const drift: Drift = { stale: [], missing: [], extra: [] };
  const current = await readAll(dir, [...files.keys()]);
  for (const [name, content] of files) {
    const text = current.get(name);
    if (text === undefined) drift.missing.push(name);
    else if (text !== content) drift.stale.push(name);
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
 * Replaces `dir` with exactly `files`: everything is written to a sibling temporary folder first and
 * swapped in by rename, so a failure at any point leaves the previous folder intact.
 */
export async function replaceDirectory(dir: string, files: RenderedFiles): Promise<void> {
  const parent = dirname(dir);
  const tag = `${process.pid}-${randomBytes(4).toString("hex")}`;
  const staging = join(parent, `.${basename(dir)}.new-${tag}`);
  const previous = join(parent, `.${basename(dir)}.old-${tag}`);
  try {
    await mkdir(staging, { recursive: true });
    for (const folder of new Set([...files.keys()].map((name) => dirname(join(staging, name)))))
      await mkdir(folder, { recursive: true });
    await inParallel(files, ([name, content]) => writeFile(join(staging, name), content));
    const hadPrevious = await rename(dir, previous).then(
      () => true,
      (e: NodeJS.ErrnoException) => {
        if (e.code === "ENOENT") return false;
        throw e;
      },
    );
    try {
      await rename(staging, dir);
    } catch (error) {
      if (hadPrevious) await rename(previous, dir);
      throw error;
    }
    if (hadPrevious) await rm(previous, { recursive: true, force: true });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * Writes one file whole or not at all: a temporary sibling first, then a rename over the target
 * (atomic on one file system), so a reader never sees half a file.
 */
export async function writeFileAtomic(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = join(dirname(path), `.${basename(path)}.new-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    await writeFile(temporary, content);
    await rename(temporary, path);
  } finally {
    await rm(temporary, { force: true });
  }
}

/** Names of `files` (relative to `root`) whose content on disk differs (stale) or that are absent (missing). */
export async function compareFiles(root: string, files: RenderedFiles): Promise<Omit<Drift, "extra">> {
  const drift: Omit<Drift, "extra"> = { stale: [], missing: [] };
  const current = await readAll(root, [...files.keys()]);
  for (const [name, content] of files) {
    const text = current.get(name);
    if (text === undefined) drift.missing.push(name);
    else if (text !== content) drift.stale.push(name);
  }
  return drift;
}

const basename = (p: string) => p.split(/[\\/]/).filter(Boolean).pop() ?? p;
