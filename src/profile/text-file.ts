import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";

/** Largest drive-cycle or profile file read, bytes (a 10 Hz trace of a day is about 20 MB; cut it up). */
export const MAX_TEXT_FILE_BYTES = 4 * 1024 * 1024;

/** Why a file was not read: the errno code, or ENOTREG (not a regular file) / EFBIG (too large). */
export class TextFileError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads a regular file as UTF-8, at most `maxBytes`. Opened non-blocking, so a FIFO, a device or a
 * socket put where a CSV should be is refused at once instead of blocking the reader for ever.
 */
export function readTextFile(path: string, maxBytes = MAX_TEXT_FILE_BYTES): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    throw new TextFileError(code, `cannot open ${path} (${code})`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile())
      throw new TextFileError(
        stat.isDirectory() ? "EISDIR" : "ENOTREG",
        `${path} is not a regular file (a folder, FIFO, device or socket)`,
      );
    if (stat.size > maxBytes)
      throw new TextFileError("EFBIG", `${path} holds ${stat.size} bytes, more than the ${maxBytes} allowed`);
    // The size may change while reading: read at most maxBytes + 1 and refuse what is over.
    const buffer = Buffer.alloc(Math.min(maxBytes + 1, stat.size + 1));
    let length = 0;
    while (length < buffer.length) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    if (length > maxBytes)
      throw new TextFileError("EFBIG", `${path} grew past the ${maxBytes} bytes allowed while being read`);
    return buffer.subarray(0, length).toString("utf8");
  } finally {
    closeSync(fd);
  }
}
