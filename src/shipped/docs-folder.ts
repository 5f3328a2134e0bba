/**
 * The documents folder behind `docs.create`: a Markdown file per document, named after a slug of its
 * title, with YAML front matter.
 *
 * Nothing a caller sends can name a file outside the folder: the file name is built only from
 * `[a-z0-9-]` (so no `/`, `\`, `.`, NUL or Unicode look-alikes survive), the folder must not be a
 * symbolic link (and must stay where it was first found), a symbolic link at the target name is
 * refused, and writes go to a temporary file in the same folder that is then linked (exclusive:
 * fails if the name exists) or renamed (replace) into place — readers never see half a document,
 * and of two racing creates exactly one wins.
 */
import { randomBytes } from "node:crypto";
import { link, lstat, mkdir, open, readdir, realpath, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { ToolError } from "../toolgate.js";

export const SLUG_MAX = 80;

/** Names Windows reserves for devices, whatever the extension: kept out in case the folder is shared. */
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/;

/**
 * The file-name slug of a title: NFKC-normalised (fullwidth `．／` become `./`), accents removed,
 * lower-case (ß → ss), every run of anything but ASCII letters and digits becomes one `-`, no `-` at
 * either end, at most 80 characters. Empty when the title has no Latin letter or digit.
 */
export function slugify(title: string): string {
  const slug = title
    .normalize("NFKC")
    .normalize("NFD")
    .replace(/\p{M}+/gu, "") // é → e
    .toLowerCase()
    .replaceAll("ß", "ss")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, SLUG_MAX)
    .replace(/-+$/, "");
  return RESERVED.test(slug) ? `${slug}-doc` : slug;
}

/** Characters refused in a title: C0/C1 controls (NUL, newlines, escapes) and bidirectional controls (U+202E…). */
const FORBIDDEN_IN_TITLE = /[\p{Cc}\p{Bidi_Control}]/u;

/** Characters escaped in front matter strings (controls, invisible format characters, line separators). */
const ESCAPED_IN_YAML = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;

/** A YAML double-quoted scalar (JSON string syntax is valid YAML), with invisible characters escaped. */
export function yamlString(value: string): string {
  return JSON.stringify(value).replace(ESCAPED_IN_YAML, (c) => {
    const code = c.codePointAt(0)!;
    return code > 0xffff ? `\\U${code.toString(16).padStart(8, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

export interface DocumentInput {
  title: string;
  body: string;
  tags?: readonly string[];
  author: { userId: string; subject: string };
  created?: Date;
}

/** The file's text: YAML front matter, a blank line, the body (ending with a newline). */
export function renderDocument(doc: DocumentInput): string {
  const lines = [
    "---",
    `title: ${yamlString(doc.title)}`,
    `tags: [${(doc.tags ?? []).map(yamlString).join(", ")}]`,
    `author: ${yamlString(doc.author.userId)}`,
    `author_subject: ${yamlString(doc.author.subject)}`,
    `created: ${(doc.created ?? new Date()).toISOString()}`,
    "---",
    "",
  ];
  const body = doc.body.endsWith("\n") || doc.body === "" ? doc.body : `${doc.body}\n`;
  return `${lines.join("\n")}\n${body}`;
}

export interface WriteResult {
  /** The file name, relative to the documents folder. */
  path: string;
  /** False when an existing document was replaced. */
  created: boolean;
  bytes: number;
}

/** The most the folder may hold: refused beyond (DOCS_MAX_FILES, DOCS_MAX_BYTES). */
export interface DocsQuota {
  files: number;
  bytes: number;
}

/** The files (regular files directly in the folder) and their bytes, as the quota counts them. */
interface Usage {
  files: number;
  bytes: number;
  measured: number;
}

/**
 * How long a count of the folder is trusted (this process's own writes keep it current): files
 * added or removed by others are seen within this time.
 */
export const USAGE_RESCAN_MS = 60_000;

/** Errors from the file system that mean "hard links are not available here". */
const NO_HARD_LINKS = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EXDEV", "EMLINK"]);

export class DocsFolder {
  /** The folder's real path, pinned on first use. */
  #real: string | undefined;
  #usage: Usage | undefined;
  #measuring: Promise<Usage> | undefined;
  /** The tail of this folder's queue of writes (see `write`). */
  #queue: Promise<unknown> = Promise.resolve();

  /** `dir`: absolute path of the documents folder (created if missing). */
  constructor(
    readonly dir: string,
    private readonly options: { hardLinks?: boolean } = {},
  ) {}

  /**
   * The folder to write into, checked on every call: it must be a real folder (not a symbolic link)
   * and still resolve to where it was first found.
   */
  async #folder(): Promise<string> {
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
    const info = await lstat(this.dir);
    if (info.isSymbolicLink() || !info.isDirectory())
      throw new Error(`DOCS_DIR ${this.dir} is a symbolic link or not a folder; point DOCS_DIR at the real folder`);
    const real = await realpath(this.dir);
    this.#real ??= real;
    if (real !== this.#real) throw new Error(`DOCS_DIR ${this.dir} moved from ${this.#real} to ${real}; refusing`);
    return real;
  }

  /** The folder's files and bytes: counted at most every USAGE_RESCAN_MS, one count at a time. */
  async #current(folder: string): Promise<Usage> {
    if (this.#usage && Date.now() - this.#usage.measured < USAGE_RESCAN_MS) return this.#usage;
    this.#measuring ??= (async () => {
      const usage: Usage = { files: 0, bytes: 0, measured: Date.now() };
      for (const entry of await readdir(folder, { withFileTypes: true })) {
        if (!entry.isFile()) continue;
        const info = await lstat(join(folder, entry.name)).catch(() => undefined);
        if (!info?.isFile()) continue;
        usage.files++;
        usage.bytes += info.size;
      }
      this.#usage = usage;
      return usage;
    })().finally(() => {
      this.#measuring = undefined;
    });
    return this.#measuring;
  }

  /**
   * Writes the document. With a `quota`, a new file is refused when the folder holds `quota.files`
   * files, and any write that would take the folder's files past `quota.bytes` bytes (ToolErrors
   * naming the setting). The writes of this folder run one at a time (in this process): the size
   * of the file a write replaces is read, the quota checked, the file placed and the count updated
   * with nothing of another write in between, so the count stays exact however many writes race
   * (racing overwrites of one document each subtracted the same old size before, and the count
   * drifted until the next rescan). Other processes writing to the folder are seen at the rescan.
   */
  async write(doc: DocumentInput & { overwrite?: boolean }, quota?: DocsQuota): Promise<WriteResult> {
    if (FORBIDDEN_IN_TITLE.test(doc.title))
      throw new ToolError("The title must not contain control characters or bidirectional text overrides.");
    const slug = slugify(doc.title);
    if (slug === "")
      throw new ToolError(
        "The title needs at least one Latin letter or digit: the file name is made from it, with a-z, 0-9 and hyphens only.",
      );
    const name = `${slug}.md`;
    if (!/^[a-z0-9][a-z0-9-]*\.md$/.test(name)) throw new Error(`unexpected document name ${name}`); // by construction
    const data = Buffer.from(renderDocument(doc), "utf8");
    return this.#serially(() => this.#write(slug, name, data, doc.overwrite === true, quota));
  }

  /** Runs `task` after every task queued before it has settled (a promise chain: an async mutex). */
  #serially<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => {});
    return run;
  }

  /** One write, run alone (see `write`). */
  async #write(slug: string, name: string, data: Buffer, overwrite: boolean, quota?: DocsQuota): Promise<WriteResult> {
    const folder = await this.#folder();
    const target = join(folder, name);
    // What the write replaces, read here: no write of this process can place a file in between.
    const existing = await lstat(target).then(
      (info) => (info.isFile() ? info.size : 0),
      () => undefined,
    );
    // A write that adds no file, or no bytes, is not refused for them (an overwrite, a shorter document).
    const files = existing === undefined ? 1 : 0;
    const bytes = data.length - (existing ?? 0);
    if (quota) {
      const usage = await this.#current(folder);
      if (files > 0 && usage.files + files > quota.files)
        throw new ToolError(
          `The documents folder holds ${usage.files} files, the most it may (DOCS_MAX_FILES=${quota.files}); no new document can be created. Replace one with overwrite: true, or ask the operator to remove some or raise DOCS_MAX_FILES.`,
        );
      if (bytes > 0 && usage.bytes + bytes > quota.bytes)
        throw new ToolError(
          `This document (${data.length} bytes) would take the documents folder past ${quota.bytes} bytes, the most it may hold (DOCS_MAX_BYTES; it holds ${usage.bytes}). Ask the operator to remove some documents or raise DOCS_MAX_BYTES.`,
        );
    }
    const result = await this.#writeFile(folder, slug, target, name, data, overwrite);
    // Placed: the count (if one is held) gains what the write added. A refused or failed write changed nothing.
    if (this.#usage) {
      this.#usage.files += files;
      this.#usage.bytes += bytes;
    }
    return result;
  }

  async #writeFile(
    folder: string,
    slug: string,
    target: string,
    name: string,
    data: Buffer,
    overwrite: boolean,
  ): Promise<WriteResult> {
    // The temporary name starts with "." and holds a "." besides ".md": no slug can ever equal it.
    const temp = join(folder, `.${slug}.${randomBytes(8).toString("hex")}.tmp`);
    const file = await open(temp, "wx", 0o644); // exclusive: never follows or reuses anything already there
    try {
      try {
        await file.writeFile(data);
        await file.sync();
      } finally {
        await file.close();
      }
      const created = await this.#place(temp, target, overwrite, name);
      return { path: name, created, bytes: data.length };
    } finally {
      await unlink(temp).catch(() => {});
    }
  }

  /** Moves the complete temporary file to `target`: true when it was created, false when it replaced one. */
  async #place(temp: string, target: string, overwrite: boolean, name: string): Promise<boolean> {
    if (this.options.hardLinks !== false) {
      try {
        await link(temp, target); // atomic and exclusive: EEXIST if anything (even a dangling link) has the name
        return true;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? "";
        if (code === "EEXIST") {
          if (!overwrite) throw alreadyExists(name);
          await this.#replace(temp, target, name);
          return false;
        }
        if (!NO_HARD_LINKS.has(code)) throw error;
      }
    }
    // No hard links on this file system: reserve the name with O_CREAT|O_EXCL ("wx"), then rename over it.
    try {
      await (await open(target, "wx", 0o644)).close();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (!overwrite) throw alreadyExists(name);
      await this.#replace(temp, target, name);
      return false;
    }
    await rename(temp, target);
    return true;
  }

  /** Replaces an existing regular file; a symbolic link or folder with that name is refused, never followed. */
  async #replace(temp: string, target: string, name: string): Promise<void> {
    const info = await lstat(target).catch(() => undefined);
    if (info && !info.isFile())
      throw new ToolError(`${name} exists and is not a regular document (a link or a folder); it was left alone.`);
    // rename() replaces the directory entry itself: even if a link appeared meanwhile, it is not followed.
    await rename(temp, target);
  }
}

const alreadyExists = (name: string) =>
  new ToolError(`A document named ${name} already exists; pass overwrite: true to replace it, or change the title.`);

const folders = new Map<string, DocsFolder>();

/** The one DocsFolder of `dir` in this process. */
export function docsFolder(dir: string): DocsFolder {
  let folder = folders.get(dir);
  if (!folder) {
    folder = new DocsFolder(dir);
    folders.set(dir, folder);
  }
  return folder;
}
