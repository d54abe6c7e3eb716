import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, relative, sep } from 'node:path';
import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';

/**
 * The zip archives Lambda takes as function code (`UpdateFunctionCode`'s `ZipFile`): written by
 * the release command to send a bundle folder, read by the local Lambda endpoint to unpack it. Plain zip only (stored or deflated
 * entries, no ZIP64: Lambda's direct upload is 50 MB, far below 4 GB), so no library is needed.
 */

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL = 0x06054b50;
/** The end record is 22 bytes plus a comment of at most 65 535. */
const MAX_END_SEARCH = 22 + 0xffff;
/** A fixed DOS time (1980-01-01): the same folder always zips to the same bytes, so to the same CodeSha256. */
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

export interface ZipEntry {
  /** Forward slashes, relative, never `..`. */
  path: string;
  data: Buffer;
  /** Unix permission bits (0o644 when the archive has none). */
  mode: number;
}

export class ZipError extends Error {}

/** The file entries of a zip archive (directories are implied by paths). */
export function readZip(zip: Buffer): ZipEntry[] {
  const end = findEnd(zip);
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  if (at === 0xffffffff) throw new ZipError('ZIP64 archives are not supported');
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (at + 46 > zip.length || zip.readUInt32LE(at) !== CENTRAL_HEADER)
      throw new ZipError('corrupt central directory');
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const compressed = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const unixMode = zip.readUInt32LE(at + 38) >>> 16;
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    if (name.endsWith('/')) continue;
    if ((unixMode & 0o170000) === 0o120000) throw new ZipError(`symbolic links are not supported: ${name}`);
    if (local + 30 > zip.length || zip.readUInt32LE(local) !== LOCAL_HEADER)
      throw new ZipError(`corrupt entry ${name}`);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(start, start + compressed);
    const data = method === 0 ? Buffer.from(raw) : method === 8 ? inflateRawSync(raw) : undefined;
    if (data === undefined) throw new ZipError(`unsupported compression method ${method}: ${name}`);
    if (data.length !== size || crc32(data) !== crc) throw new ZipError(`corrupt entry ${name}`);
    entries.push({ path: safePath(name), data, mode: unixMode & 0o777 || 0o644 });
  }
  return entries;
}

/** A zip of these entries, deflated, in the order given. */
export function writeZip(entries: readonly ZipEntry[]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.path, 'utf8');
    const data = deflateRawSync(entry.data);
    const crc = crc32(entry.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(LOCAL_HEADER, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8);
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const header = Buffer.alloc(46);
    header.writeUInt32LE(CENTRAL_HEADER, 0);
    header.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so the mode bits below are read
    header.writeUInt16LE(20, 6);
    header.writeUInt16LE(0x0800, 8);
    header.writeUInt16LE(8, 10);
    header.writeUInt16LE(DOS_DATE, 14);
    header.writeUInt32LE(crc, 16);
    header.writeUInt32LE(data.length, 20);
    header.writeUInt32LE(entry.data.length, 24);
    header.writeUInt16LE(name.length, 28);
    header.writeUInt32LE(((0o100000 | entry.mode) << 16) >>> 0, 38);
    header.writeUInt32LE(offset, 42);
    parts.push(local, name, data);
    central.push(header, name);
    offset += local.length + name.length + data.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(END_OF_CENTRAL, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, directory, end]);
}

/** Build outputs that are not function code: the packaged zip beside the bundle, TypeScript's build info, caches. */
export const notFunctionCode = (path: string): boolean =>
  path.endsWith('.zip') || path.endsWith('.tsbuildinfo') || path.includes('node_modules/.cache/');

/** Every file under `dir` (sorted, so the zip is deterministic), less those `skip` names. */
export async function folderEntries(dir: string, skip: (path: string) => boolean = () => false): Promise<ZipEntry[]> {
  const files = await readdir(dir, { recursive: true, withFileTypes: true });
  const paths = files
    .filter((f) => f.isFile())
    .map((f) => relative(dir, join(f.parentPath, f.name)).split(sep).join('/'))
    .filter((path) => !skip(path))
    .sort();
  return Promise.all(paths.map(async (path) => ({ path, data: await readFile(join(dir, path)), mode: 0o644 })));
}

/** Writes the entries under `dir`. */
export async function unpack(entries: readonly ZipEntry[], dir: string): Promise<void> {
  for (const entry of entries) {
    const file = join(dir, entry.path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, entry.data, { mode: entry.mode });
  }
}

function findEnd(zip: Buffer): number {
  for (let at = zip.length - 22; at >= Math.max(0, zip.length - MAX_END_SEARCH); at--) {
    if (zip.readUInt32LE(at) === END_OF_CENTRAL) return at;
  }
  throw new ZipError('not a zip archive (no end of central directory)');
}

/** A path that stays inside the folder it is unpacked in (no "zip slip"). */
function safePath(name: string): string {
  const path = normalize(name.replaceAll('\\', '/'));
  if (isAbsolute(path) || path === '..' || path.startsWith(`..${sep}`) || path.startsWith('../'))
    throw new ZipError(`entry outside the archive's folder: ${name}`);
  return path.split(sep).join('/');
}

/** A folder as `UpdateFunctionCode` takes it: the same folder always gives the same bytes (and CodeSha256). */
export async function zipFolder(dir: string): Promise<Buffer> {
  return writeZip(await folderEntries(dir, notFunctionCode));
}
