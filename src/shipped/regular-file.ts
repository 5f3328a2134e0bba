import { constants, type FileHandle, open } from "node:fs/promises";

/**
 * Opens `abs` for reading only when it is a regular file: a FIFO or device is not waited on
 * (O_NONBLOCK — opening a FIFO without it holds one of libuv's four file-system threads until a
 * writer appears) and is refused, as is anything else but a regular file. A symbolic link is not
 * followed (O_NOFOLLOW, also when a file was swapped for one after a directory was listed) unless
 * `followLink`, and then only to a regular file. Undefined when refused or not openable; the
 * caller closes the handle.
 */
export async function openRegularFile(
  abs: string,
  options: { followLink?: boolean } = {},
): Promise<{ handle: FileHandle; size: number } | undefined> {
  let handle: FileHandle;
  try {
    const noFollow = options.followLink ? 0 : (constants.O_NOFOLLOW ?? 0);
    handle = await open(abs, constants.O_RDONLY | noFollow | (constants.O_NONBLOCK ?? 0));
  } catch {
    return undefined;
  }
  try {
    const info = await handle.stat();
    if (info.isFile()) return { handle, size: info.size };
  } catch {
    // fall through: closed below
  }
  await handle.close().catch(() => {});
  return undefined;
}

/** Reads from the start of the file into `buffer` until it is full or the file ends; the bytes read. */
export async function readInto(handle: FileHandle, buffer: Buffer): Promise<number> {
  let length = 0;
  while (length < buffer.length) {
    const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
    if (bytesRead === 0) break;
    length += bytesRead;
  }
  return length;
}
