import { gzipSync } from 'node:zlib';

// A minimal, reproducible tar.gz writer for release archives: POSIX ustar headers for regular files only, every
// timestamp, owner and group fixed, entries in the order given, gzip without a name or time in its header. The same
// inputs give the same bytes on every machine with the same Node (whose zlib does the compression), so the sha256 in
// the krew manifest can be checked in CI (see hack/build-plugin.ts). System tar and gzip are not used because their
// output differs across versions.

/** One regular file of the archive. */
export interface TarEntry {
  /** Path inside the archive, at most 100 bytes (no prefix field is written). */
  readonly name: string;
  readonly mode: number;
  readonly content: Uint8Array;
}

const BLOCK = 512;

function writeString(header: Buffer, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new Error(`tar: "${value}" is longer than ${length} bytes`);
  bytes.copy(header, offset);
}

/** An octal number, zero-padded to `length - 1` digits and NUL-terminated, as ustar numeric fields are. */
function writeOctal(header: Buffer, offset: number, length: number, value: number): void {
  const digits = value.toString(8);
  if (digits.length > length - 1) throw new Error(`tar: ${value} does not fit in ${length - 1} octal digits`);
  writeString(header, offset, length, `${digits.padStart(length - 1, '0')}\0`);
}

/** The 512-byte ustar header of `entry`. */
export function tarHeader(entry: TarEntry): Buffer {
  const h = Buffer.alloc(BLOCK);
  writeString(h, 0, 100, entry.name);
  writeOctal(h, 100, 8, entry.mode);
  writeOctal(h, 108, 8, 0); // uid
  writeOctal(h, 116, 8, 0); // gid
  writeOctal(h, 124, 12, entry.content.length);
  writeOctal(h, 136, 12, 0); // mtime: the epoch, so the archive does not depend on when it was built
  h.fill(' ', 148, 156); // the checksum is computed with its own field as spaces
  writeString(h, 156, 1, '0'); // regular file
  writeString(h, 257, 6, 'ustar\0');
  writeString(h, 263, 2, '00');
  writeString(h, 265, 32, 'root');
  writeString(h, 297, 32, 'root');
  let sum = 0;
  for (const byte of h) sum += byte;
  writeString(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

/** The uncompressed archive: each header, its content padded to a block, then two zero blocks. */
export function tar(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(tarHeader(e), Buffer.from(e.content.buffer, e.content.byteOffset, e.content.length));
    const pad = (BLOCK - (e.content.length % BLOCK)) % BLOCK;
    if (pad > 0) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

/** The gzip-compressed archive. */
export function tarGz(entries: readonly TarEntry[]): Buffer {
  return gzipSync(tar(entries), { level: 6 });
}
