import { write, writeSync } from "node:fs";

/** Lines kept while the destination is slower than the server: beyond this, lines are dropped and counted. */
const MAX_PENDING_CHARS = 16 * 1024 * 1024;
/** A non-blocking pipe that is full (EAGAIN): tried again after this. */
const RETRY_MS = 10;
/** At exit, a full pipe is waited for this long at most before the remaining lines are given up. */
const EXIT_WAIT_MS = 5_000;

/**
 * pino's destination for JSON lines: written to a file descriptor asynchronously, the lines that
 * arrive while a write is under way joined into the next one.
 *
 * Instead of pino's default (sonic-boom, asynchronous): it appends each line to the pending text and
 * first measures the pending text's UTF-8 length, which makes V8 copy all of it into one flat string
 * — on every line. Under load many lines arrive during one write, so the copies grow with the square
 * of their number: 3.8 KB of allocation and ~1 µs of CPU per 210-byte audit line at 7,600 req/s,
 * more the longer the line (`bench/README.md`). Here a line is pushed on a list and the list joined
 * once per write.
 *
 * Writes go through `fs.write` (libuv's thread pool), in order, one at a time; a partial write
 * continues where it stopped; EAGAIN (a full non-blocking pipe) is tried again after 10 ms. Another
 * error (EPIPE: the reader went away) stops the writer: later lines are dropped, and one line on
 * stderr says so. At exit, what is pending is written synchronously.
 */
export class LineWriter {
  readonly #fd: number;
  #pending: string[] = [];
  #pendingChars = 0;
  /** True from the first `fs.write` of a batch until its last byte is written. */
  #busy = false;
  /** A batch waiting to be tried again after EAGAIN: not with the thread pool, so `flushSync` takes it. */
  #retry: { bytes: Buffer; offset: number; timer: NodeJS.Timeout } | undefined;
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
    if (!this.#busy) this.#next();
  }

  /** Calls back once every line written so far has reached the file descriptor (pino's `logger.flush`). */
  flush(done?: (error?: Error) => void): void {
    if (!done) return;
    if (!this.#busy || this.#failed) done();
    else this.#waiting.push(() => done());
  }

  /**
   * Writes what is pending now, blocking: at exit. A batch waiting to be tried again is written first.
   * A batch the thread pool is writing finishes there, and the pending lines may land before it —
   * the one case where order is not kept (as with sonic-boom). A full pipe is waited for 5 s at most.
   */
  flushSync(): void {
    if (this.#failed) return;
    const deadline = Date.now() + EXIT_WAIT_MS;
    const retry = this.#retry;
    if (retry) {
      clearTimeout(retry.timer);
      this.#retry = undefined;
      if (!this.#writeSync(retry.bytes, retry.offset, deadline)) return;
      // Nothing is with the thread pool: later lines start a write of their own.
      this.#busy = false;
    }
    const bytes = this.#take();
    if (bytes && !this.#writeSync(bytes, 0, deadline)) return;
    if (!this.#busy) for (const done of this.#waiting.splice(0)) done();
  }

  #writeSync(bytes: Buffer, offset: number, deadline: number): boolean {
    while (offset < bytes.length) {
      try {
        offset += writeSync(this.#fd, bytes, offset, bytes.length - offset);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EAGAIN" || Date.now() > deadline) {
          this.#fail(error);
          return false;
        }
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, RETRY_MS);
      }
    }
    return true;
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
    return Buffer.from(text, "utf8");
  }

  #next(): void {
    const bytes = this.#take();
    this.#busy = bytes !== undefined;
    if (bytes) this.#write(bytes, 0);
    else for (const done of this.#waiting.splice(0)) done();
  }

  #write(bytes: Buffer, offset: number): void {
    write(this.#fd, bytes, offset, bytes.length - offset, null, (error, written) => {
      if (this.#failed) return;
      if (error) {
        if (error.code !== "EAGAIN") return this.#fail(error);
        // Not holding the process open for its log: at exit, flushSync writes this batch.
        const timer = setTimeout(() => {
          this.#retry = undefined;
          this.#write(bytes, offset);
        }, RETRY_MS).unref();
        this.#retry = { bytes, offset, timer };
        return;
      }
      if (offset + written < bytes.length) this.#write(bytes, offset + written);
      else this.#next();
    });
  }

  #fail(error: unknown): void {
    this.#failed = true;
    this.#pending = [];
    this.#pendingChars = 0;
    this.#busy = false;
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    try {
      writeSync(2, `toolgate: writing the log failed (${code}); later log lines are dropped\n`);
    } catch {
      // stderr is gone too: nothing left to tell.
    }
    // Last: a waiter may end the process (a flush before exit).
    for (const done of this.#waiting.splice(0)) done();
  }
}

const writers = new Map<number, LineWriter>();

/** The one writer of a file descriptor in this process, flushed at exit. */
export function lineWriter(fd: number): LineWriter {
  let writer = writers.get(fd);
  if (!writer) {
    if (writers.size === 0)
      process.once("exit", () => {
        for (const w of writers.values()) w.flushSync();
      });
    writer = new LineWriter(fd);
    writers.set(fd, writer);
  }
  return writer;
}
