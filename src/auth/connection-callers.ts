import type { IncomingMessage } from "node:http";
import type { Principal } from "../tools/handler-api.js";

interface Remembered {
  header: string;
  /** The credential header's value, as sent. */
  value: string;
  /** Its bytes (latin1: one per character, as node:http decodes header values), zero-padded to whole words. */
  words: Int32Array;
  principal: Principal;
  /** False once the credential must be checked again (the token expired, the verifier closed). */
  current(): boolean;
}

/** Longer credential headers are not remembered (access tokens are refused beyond 8 KiB anyway). */
const MAX_CHARS = 8 * 1024;
/** Room for MAX_CHARS characters, one byte each, seen as bytes and as 32-bit words. */
const scratchMemory = new ArrayBuffer(MAX_CHARS);
const scratch = Buffer.from(scratchMemory);
const scratchWords = new Int32Array(scratchMemory);

/**
 * Constant time: every word is compared, no branch depends on the data (the OR of the XORs, as
 * noble-hashes' `equalBytes` and tweetnacl's `vn` do in JavaScript). Replaces `crypto.timingSafeEqual`,
 * whose byte-wise CRYPTO_memcmp and binding call cost ~1 µs per request for a 784-byte header (perf).
 */
function sameWords(remembered: Int32Array, words: number): boolean {
  let difference = 0;
  for (let i = 0; i < words; i++) difference |= (remembered[i] as number) ^ (scratchWords[i] as number);
  return difference === 0;
}

/** Words needed for `length` bytes. */
const wordsFor = (length: number) => (length + 3) >>> 2;

/**
 * The caller last authenticated on each keep-alive connection. A client sends the same credential on
 * every request of a connection; when the credential header is byte for byte the one that
 * authenticated the connection's previous request, and that authentication still holds, its
 * principal is reused without parsing the header, hashing the token and looking it up again (about
 * 2 µs of CPU per request, measured in-process).
 *
 * Safe behind proxies that pool connections for many users: only an identical credential matches
 * (compared in constant time, so response timing tells nothing about a remembered one), a request
 * with another credential or none goes the normal way, and every request is still decided on its own.
 * The price: a connection keeps its last credential's bytes until it closes or another credential
 * replaces it (the shared token cache holds only SHA-256 digests).
 */
export class ConnectionCallers {
  readonly #bySocket = new WeakMap<object, Remembered>();

  recall(req: IncomingMessage, header: string, value: string): Principal | undefined {
    const remembered = this.#bySocket.get(req.socket);
    if (remembered === undefined || remembered.header !== header || value.length !== remembered.value.length)
      return undefined;
    // Written into one reused buffer (a Buffer per request would be off-heap memory V8 counts towards
    // its next garbage collection) as latin1: node:http gives header values one byte per character,
    // so this is a copy, not an encoding (UTF-8 measured its length first: ~0.5 µs per request).
    const length = value.length;
    const words = wordsFor(length);
    scratch.write(value, 0, length, "latin1");
    // The last word's padding: at most three bytes (Buffer#fill is a C++ builtin call, ~0.2 µs under load).
    for (let i = length; i < words * 4; i++) scratch[i] = 0;
    if (!sameWords(remembered.words, words)) return undefined;
    // Equal bytes: now an ordinary comparison tells nothing new. It refuses a string from elsewhere
    // whose characters beyond latin1 were cut to the same bytes.
    if (value !== remembered.value) return undefined;
    if (!remembered.current()) {
      this.#bySocket.delete(req.socket);
      return undefined;
    }
    return remembered.principal;
  }

  remember(req: IncomingMessage, header: string, value: string, principal: Principal, current: () => boolean): void {
    if (value.length > MAX_CHARS) return;
    // Its own memory (zeroed), not a slice of Node's shared pool (which would keep 8 KiB alive per connection).
    const words = new Int32Array(wordsFor(value.length));
    Buffer.from(words.buffer).write(value, 0, value.length, "latin1");
    this.#bySocket.set(req.socket, { header, value, words, principal, current });
  }
}
