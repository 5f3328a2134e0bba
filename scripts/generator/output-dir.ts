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

/** Compares rendered files with what is on disk in `dir`, writing nothing. */
export async function compareWithDisk(dir: string, files: RenderedFiles): Promise<Drift> {
  const onDisk = await listFiles(dir);
  const drift: Drift = { stale: [], missing: [], extra: [] };
  for (const [name, content] of files) {
    const current = await readFile(join(dir, name), "utf8").catch(() => undefined);
    if (current === undefined) drift.missing.push(name);
    else if (current !== content) drift.stale.push(name);
  }
  drift.extra = onDisk.filter((f) => !files.has(f));
  return drift;
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
    for (const [name, content] of files) {
      const path = join(staging, name);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, content);
    }
    await mkdir(staging, { recursive: true });
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
  for (const [name, content] of files) {
    const current = await readFile(join(root, name), "utf8").catch(() => undefined);
    if (current === undefined) drift.missing.push(name);
    else if (current !== content) drift.stale.push(name);
  }
  return drift;
}

const basename = (p: string) => p.split(/[\\/]/).filter(Boolean).pop() ?? p;
