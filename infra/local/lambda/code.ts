import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { folderEntries, notFunctionCode as notCode, readZip, unpack, writeZip } from '@marquee/shared';

/**
 * A function's code as Lambda keeps it: a folder holding the handler module, and the
 * `CodeSha256` of its zip. A published version's code never changes, so the endpoint freezes
 * it: a folder the operator gave (the Generator's bundle, rebuilt in place by `npm run package`)
 * is copied when a version is published; a zip sent with `UpdateFunctionCode` is unpacked into a
 * folder of the endpoint's own, which nothing writes again.
 */
export interface FunctionCode {
  dir: string;
  /** The handler module, relative to `dir`. */
  module: string;
  /** Base64 SHA-256 of the code's zip, as Lambda reports it (a folder: of its deterministic zip). */
  sha256: string;
  /** Bytes of that zip (`CodeSize`). */
  size: number;
  /** A folder of the endpoint's own (frozen), or the operator's (copied before it is published). */
  owned: boolean;
}

function digest(zip: Buffer): { sha256: string; size: number } {
  return { sha256: createHash('sha256').update(zip).digest('base64'), size: zip.length };
}

/** The module file of a `_HANDLER` module name in an unpacked zip, as Node.js runtimes look for it. */
function moduleIn(dir: string, name: string): string | undefined {
  return ['.mjs', '.js', '.cjs'].map((ext) => name + ext).find((file) => existsSync(join(dir, file)));
}

/**
 * Where frozen code lives: under the `node_modules` the code's own folder resolves packages from,
 * so a bundle that keeps sharp outside (as the Generator's does) resolves the same sharp from its
 * frozen copy. Ignored by git, as node_modules is.
 */
function storeRoot(codeDir: string): string {
  for (let dir = codeDir; ; dir = dirname(dir)) {
    if (basename(dir) !== 'node_modules' && existsSync(join(dir, 'node_modules')))
      return join(dir, 'node_modules', '.cache', 'marquee-local-lambda');
    if (dirname(dir) === dir) return join(tmpdir(), 'marquee-local-lambda');
  }
}

/** The frozen code of one endpoint's function: created on first use, removed on `close`. */
export class CodeStore {
  private root: Promise<string> | undefined;
  private count = 0;

  /** `near`: the folder of the function's original code (see `storeRoot`). */
  constructor(private readonly near: string) {}

  /** The operator's folder holding `handler` (an absolute module path), as it is now. */
  static async fromFolder(handler: string): Promise<FunctionCode> {
    const dir = dirname(handler);
    const zip = writeZip(await folderEntries(dir, notCode));
    return { dir, module: relative(dir, handler), ...digest(zip), owned: false };
  }

  /** A zip's code, unpacked into a folder of the store's own; `handlerModule` is `_HANDLER`'s module part. */
  async fromZip(zip: Buffer, handlerModule: string): Promise<FunctionCode> {
    const entries = readZip(zip);
    const dir = await this.newDir();
    await unpack(entries, dir);
    const module = moduleIn(dir, handlerModule);
    if (module === undefined) {
      await rm(dir, { recursive: true, force: true });
      throw new CodeError(`the zip has no ${handlerModule}.mjs, .js or .cjs at its root (the handler's module)`);
    }
    return { dir, module, ...digest(zip), owned: true };
  }

  /** Code that will not change: `code` itself when the store owns it, else a copy. */
  async freeze(code: FunctionCode): Promise<FunctionCode> {
    if (code.owned) return code;
    const dir = await this.newDir();
    await cp(code.dir, dir, {
      recursive: true,
      filter: (from) => !notCode(relative(code.dir, from).split('\\').join('/')),
    });
    // Hashed again: the folder may have been rebuilt since the function started.
    const zip = writeZip(await folderEntries(dir, notCode));
    return { dir, module: code.module, ...digest(zip), owned: true };
  }

  async close(): Promise<void> {
    const root = this.root;
    this.root = undefined;
    if (root) await rm(await root, { recursive: true, force: true });
  }

  private async newDir(): Promise<string> {
    this.root ??= (async () => {
      const base = storeRoot(this.near);
      await mkdir(base, { recursive: true });
      return mkdtemp(join(base, `${process.pid}-`));
    })();
    const dir = join(await this.root, String(++this.count));
    await mkdir(dir, { recursive: true });
    return dir;
  }
}

/** Code the endpoint cannot take: a 400 InvalidParameterValueException. */
export class CodeError extends Error {}

/** The module part of a Lambda handler setting (`index.handler` → `index`). */
export function handlerModule(handler: string): string {
  const dot = handler.lastIndexOf('.');
  return dot > 0 ? handler.slice(0, dot) : handler;
}
