import type { IncomingMessage } from "node:http";

/**
 * Reads a request body whole, up to `limit` bytes, and returns what `complete` makes of it (called
 * when the body has ended: no further promise on the /mcp fast path). Beyond `limit` reading stops
 * (the request is paused) and "too-large" is returned: the caller answers 413 and closes the
 * connection, the rest is never read. A client that leaves mid-body gives "aborted".
 */
export function readBody<T>(
  req: IncomingMessage,
  limit: number,
  complete: (bytes: Buffer) => T,
): Promise<T | { kind: "too-large" } | { kind: "aborted" }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) {
        cleanup();
        req.pause();
        resolve({ kind: "too-large" });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(complete(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
    };
    const onAbort = () => {
      cleanup();
      resolve({ kind: "aborted" });
    };
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onAbort);
      req.off("aborted", onAbort);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onAbort);
    req.on("aborted", onAbort);
  });
}
