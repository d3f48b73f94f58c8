import { crc32, inflateRawSync } from "node:zlib";

/**
 * A small ZIP reader, enough for the bill archives payment providers hand out
 * (Alipay's trade bill is a ZIP of GBK-encoded CSV files): the central
 * directory is read from the end-of-central-directory record, each entry's
 * data from its local header, stored (method 0) or deflated (method 8), and
 * checked against its CRC-32 and size. No ZIP64, encryption, or multi-disk
 * archives: those are refused, as is anything malformed (SyntaxError).
 */
export interface ZipEntry {
  /** The name as stored: UTF-8 when the entry says so (flag bit 11), else decoded as GBK (what Chinese tools write). */
  name: string;
  data: Buffer;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

const gbk = new TextDecoder("gbk");
const utf8 = new TextDecoder("utf-8", { fatal: true });

export function readZip(zip: Buffer, options: { maxEntryBytes?: number } = {}): ZipEntry[] {
  const maxEntryBytes = options.maxEntryBytes ?? 64 * 1024 * 1024;
  // The end record is the last 22 bytes, plus a comment of up to 65,535 bytes.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === EOCD && i + 22 + zip.readUInt16LE(i + 20) === zip.length) {
      eocd = i;
      break;
    }
  }
  if (eocd === -1) throw new SyntaxError("Not a ZIP archive (no end of central directory)");
  if (zip.readUInt16LE(eocd + 4) !== 0 || zip.readUInt16LE(eocd + 6) !== 0)
    throw new SyntaxError("Multi-disk ZIP archives are not supported");
  const count = zip.readUInt16LE(eocd + 10);
  const directorySize = zip.readUInt32LE(eocd + 12);
  let at = zip.readUInt32LE(eocd + 16);
  if (count === 0xffff || at === 0xffffffff) throw new SyntaxError("ZIP64 archives are not supported");
  if (at + directorySize > eocd) throw new SyntaxError("The central directory overlaps its end record");

  const entries: ZipEntry[] = [];
  for (let n = 0; n < count; n++) {
    if (at + 46 > eocd || zip.readUInt32LE(at) !== CENTRAL) throw new SyntaxError("Bad central directory entry");
    const flags = zip.readUInt16LE(at + 8);
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const compressedSize = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localAt = zip.readUInt32LE(at + 42);
    const nameBytes = zip.subarray(at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;

    if (flags & 0x1) throw new SyntaxError("Encrypted ZIP entries are not supported");
    if (size > maxEntryBytes) throw new SyntaxError("A ZIP entry is too large");
    let name: string;
    try {
      name = flags & 0x800 ? utf8.decode(nameBytes) : gbk.decode(nameBytes);
    } catch {
      throw new SyntaxError("A ZIP entry name is not UTF-8");
    }
    if (localAt + 30 > zip.length || zip.readUInt32LE(localAt) !== LOCAL) throw new SyntaxError("Bad local header");
    const dataAt = localAt + 30 + zip.readUInt16LE(localAt + 26) + zip.readUInt16LE(localAt + 28);
    if (dataAt + compressedSize > zip.length) throw new SyntaxError("A ZIP entry runs past the archive");
    const raw = zip.subarray(dataAt, dataAt + compressedSize);
    let data: Buffer;
    if (method === 0) data = Buffer.from(raw);
    else if (method === 8) {
      try {
        data = inflateRawSync(raw, { maxOutputLength: Math.max(1, size) });
      } catch {
        throw new SyntaxError("A ZIP entry does not inflate");
      }
    } else throw new SyntaxError(`ZIP compression method ${method} is not supported`);
    if (data.length !== size || crc32(data) !== crc)
      throw new SyntaxError("A ZIP entry fails its CRC-32 or size check");
    entries.push({ name, data });
  }
  return entries;
}
