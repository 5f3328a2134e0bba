import { fstatSync, writeSync } from "node:fs";

/** Lines kept while the destination is slower than the server: beyond this, lines are dropped and counted. */
const MAX_PENDING_CHARS = 16 * 1024 * 1024;
/**
 * While a full pipe holds the lines back, every this many are joined into one string: a line as pino
 * builds it is a tree of concatenated pieces that costs ~4–6 bytes of heap per character (a stalled
 * reader took 96 MB for the 16 Mi characters allowed), a joined one a byte (two beyond latin1).
 */
const COMPACT_LINES = 1024;
/** A non-blocking pipe that is full (EAGAIN): tried again after this. */
const RETRY_MS = 10;
/** At exit, a full pipe is waited for this long at most before the remaining lines are given up. */
const EXIT_WAIT_MS = 5_000;

/**
 * pino's destination for JSON lines: the lines of one turn of the event loop are joined and written
 * to the file descriptor at its end, in one `write`.
 *
 * Instead of pino's default (sonic-boom, asynchronous): it appends each line to the pending text and
 * first measures the pending text's UTF-8 length, which makes V8 copy all of it into one flat string
 * — on every line. Under load many lines arrive during one write, so the copies grow with the square
 * of their number: 3.8 KB of allocation and ~1 µs of CPU per 210-byte audit line at 7,600 req/s,
 * more the longer the line (`bench/README.md`). Here a line is pushed on a list and the list joined
 * once per write.
 *
 * The write is a `write(2)` on the main thread, never a blocking one for a pipe: Node puts a pipe on
 * stdout in non-blocking mode (the writer makes sure it has), so a full pipe answers EAGAIN at once;
 * what is left is tried again 10 ms later while new lines queue (16 Mi characters at most, then they
 * are dropped and counted). Not libuv's thread pool, as sonic-boom does: a batch the pool is writing
 * when the process exits is lost (seen on a full pipe under load), and on a server pinned to one core
 * the pool's write runs on that core anyway. Another error (EPIPE: the reader went away) stops the
 * writer: later lines are dropped, and one line on stderr says so. At exit, what is left is written,
 * waiting for a full pipe 5 s at most.
 */
export class LineWriter {
  readonly #fd: number;
  #pending: string[] = [];
  #pendingChars = 0;
  /** How many of the first entries of #pending are joined runs of lines (COMPACT_LINES). */
  #compacted = 0;
  /** A write is scheduled for the end of this turn of the event loop. */
  #scheduled = false;
  /** Bytes a full pipe did not take yet (EAGAIN), written before any pending line. */
  #blocked: { bytes: Buffer; offset: number; timer: NodeJS.Timeout } | undefined;
  #dropped = 0;
  #failed = false;
  #waiting: (() => void)[] = [];

  constructor(fd: number) {
    this.#fd = fd;
  }

  write(line: string): void {
    if (this.#failed) return;
    if (this.#pendingChars + line.length > MAX_PENDING_CHARS) {
      this.#dropped++;
      return;
    }
    this.#pending.push(line);
    this.#pendingChars += line.length;
    if (this.#blocked && this.#pending.length - this.#compacted >= COMPACT_LINES) {
      this.#pending.push(this.#pending.splice(this.#compacted).join(""));
      this.#compacted++;
    }
    if (!this.#scheduled && !this.#blocked) {
      this.#scheduled = true;
      setImmediate(this.#flushTurn);
    }
  }

  /** Calls back once every line written so far has reached the file descriptor (pino's `logger.flush`). */
  flush(done?: (error?: Error) => void): void {
    if (!done) return;
    if (this.#failed || (!this.#scheduled && !this.#blocked && this.#pending.length === 0)) done();
    else this.#waiting.push(() => done());
  }

  /** Writes everything now, blocking: at exit. A full pipe is waited for 5 s at most. */
  flushSync(): void {
    if (this.#failed) return;
    const deadline = Date.now() + EXIT_WAIT_MS;
    const blocked = this.#blocked;
    if (blocked) {
      clearTimeout(blocked.timer);
      this.#blocked = undefined;
      if (!this.#writeAll(blocked.bytes, blocked.offset, deadline)) return;
    }
    const bytes = this.#take();
    if (bytes && !this.#writeAll(bytes, 0, deadline)) return;
    this.#release();
  }

  readonly #flushTurn = (): void => {
    this.#scheduled = false;
    if (this.#failed || this.#blocked) return;
    const bytes = this.#take();
    if (bytes) this.#writeSome(bytes, 0);
    if (!this.#blocked) this.#release();
  };

  /** Writes what a non-blocking descriptor takes now; the rest waits for the retry timer. */
  #writeSome(bytes: Buffer, offset: number): void {
    const reached = this.#writeUntilFull(bytes, offset);
    if (reached === undefined || reached === bytes.length) return;
    // Not holding the process open for its log: at exit, flushSync writes the rest.
    const timer = setTimeout(this.#retry, RETRY_MS).unref();
    this.#blocked = { bytes, offset: reached, timer };
  }

  /** Writes from `offset` until done or a full pipe (EAGAIN): the offset reached; undefined once another error failed the writer. */
  #writeUntilFull(bytes: Buffer, offset: number): number | undefined {
    while (offset < bytes.length) {
      try {
        offset += writeSync(this.#fd, bytes, offset, bytes.length - offset);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? String(error);
        if (code === "EAGAIN") return offset;
        this.#fail(code);
        return undefined;
      }
    }
    return offset;
  }

  readonly #retry = (): void => {
    const blocked = this.#blocked;
    if (!blocked || this.#failed) return;
    this.#blocked = undefined;
    this.#writeSome(blocked.bytes, blocked.offset);
    if (this.#blocked) return;
    // Caught up: what queued meanwhile goes out now.
    if (this.#pending.length > 0 || this.#dropped > 0) this.#flushTurn();
    else this.#release();
  };

  /** Like #writeSome, but waits out a full pipe (at exit, when there is no later). */
  #writeAll(bytes: Buffer, offset: number, deadline: number): boolean {
    for (;;) {
      const reached = this.#writeUntilFull(bytes, offset);
      if (reached === undefined) return false;
      if (reached === bytes.length) return true;
      if (Date.now() > deadline) {
        this.#fail("EAGAIN");
        return false;
      }
      offset = reached;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, RETRY_MS);
    }
  }

  /** The pending lines as bytes (with a line about dropped ones first), the list emptied. */
  #take(): Buffer | undefined {
    if (this.#pending.length === 0 && this.#dropped === 0) return undefined;
    let text = this.#pending.length === 1 ? (this.#pending[0] as string) : this.#pending.join("");
    if (this.#dropped > 0) {
      text = `${JSON.stringify({ level: 40, time: Date.now(), service: "toolgate", dropped: this.#dropped, msg: "log lines dropped: the log destination did not keep up" })}\n${text}`;
      this.#dropped = 0;
    }
    this.#pending = [];
    this.#pendingChars = 0;
    this.#compacted = 0;
    return Buffer.from(text, "utf8");
  }

  #release(): void {
    for (const done of this.#waiting.splice(0)) done();
  }

  #fail(code: string): void {
    this.#failed = true;
    this.#pending = [];
    this.#pendingChars = 0;
    this.#compacted = 0;
    if (this.#blocked) clearTimeout(this.#blocked.timer);
    this.#blocked = undefined;
    try {
      writeSync(2, `toolgate: writing the log failed (${code}); later log lines are dropped\n`);
    } catch {
      // stderr is gone too: nothing left to tell.
    }
    // Last: a waiter may end the process (a flush before exit).
    this.#release();
  }
}

const writers = new Map<number, LineWriter>();

/**
 * The one writer of a file descriptor in this process, flushed at exit. For stdout, `process.stdout`
 * is set up first when it is a pipe or a socket: Node then switches the descriptor to non-blocking
 * mode, so a slow reader makes writes fail with EAGAIN instead of stopping the event loop.
 */
export function lineWriter(fd: number): LineWriter {
  let writer = writers.get(fd);
  if (!writer) {
    if (fd === 1 && isPipeOrSocket(fd)) void process.stdout.writable;
    if (writers.size === 0)
      process.once("exit", () => {
        for (const w of writers.values()) w.flushSync();
      });
    writer = new LineWriter(fd);
    writers.set(fd, writer);
  }
  return writer;
}

function isPipeOrSocket(fd: number): boolean {
  try {
    const stat = fstatSync(fd);
    return stat.isFIFO() || stat.isSocket();
  } catch {
    return false;
  }
}
