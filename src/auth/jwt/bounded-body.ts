/**
 * Reading an answer from an authorization server without trusting its size (the JWKS, the issuer's
 * metadata): a declared `Content-Length` over the cap is refused before anything is read, and a body
 * without one (chunked) is read no further than the cap — the stream is cancelled there, so the
 * rest is never received, whatever the other side goes on sending.
 */

/** The body as UTF-8 text, or undefined when it declares or turns out to be more than `max` bytes. */
export async function boundedText(response: Response, max: number): Promise<string | undefined> {
  const declared = response.headers.get("content-length");
  if (declared !== null && Number(declared) > max) {
    await response.body?.cancel().catch(() => {});
    return undefined;
  }
  if (!response.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    // Leaving the loop cancels the stream (the async iterator's return()).
    if (size > max) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size).toString("utf8");
}
