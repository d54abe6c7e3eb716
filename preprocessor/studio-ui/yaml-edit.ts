/**
 * Edits of a rules YAML text that keep the text as written: comments, blank lines and each
 * line's own style, except on the lines an edit changes. Pure: tap tests it in Node.
 */
import { isCollection, isMap, isScalar, isSeq, parseDocument, type Document } from 'yaml';

export type Path = ReadonlyArray<string | number>;
type Plain = string | number | boolean;
export type Value = Plain | Plain[] | Record<string, Plain>;

/** How the document API writes a changed line; the rest of the text is kept as it was. */
const WRITE = { lineWidth: 0, flowCollectionPadding: false } as const;

/**
 * A string YAML reads back as the same string when written plain (`342x513`, `northeast`,
 * `badges/top10.png`); others (numbers, booleans, null, anything with `:` or `#`) are
 * double-quoted, which is also valid YAML.
 */
const PLAIN = /^[A-Za-z0-9_/][A-Za-z0-9._/-]*$/;
const NOT_A_STRING =
  /^(?:true|false|yes|no|on|off|null|~|[-+]?(?:\d[\d_]*\.?\d*|\.\d+)(?:e[-+]?\d+)?|0x[\da-f]+|0o[0-7]+|\.inf|\.nan)$/i;

function scalarText(value: Plain): string {
  if (typeof value !== 'string') return String(value);
  return PLAIN.test(value) && !NOT_A_STRING.test(value) ? value : JSON.stringify(value);
}

function parse(text: string): Document {
  return parseDocument(text, { keepSourceTokens: false });
}

/** The value at `path` as plain data, or undefined. */
export function valueAt(text: string, path: Path): unknown {
  const node = parse(text).getIn(path, true);
  if (node === undefined || node === null) return undefined;
  return isScalar(node) ? node.value : isCollection(node) ? node.toJSON() : undefined;
}

/**
 * `text` with the value at `path` set (or removed, for undefined). A scalar or a flow list of
 * scalars that is already there is replaced in place; anything else goes through the document
 * API, and only the lines it changes take its style.
 */
export function editRules(text: string, path: Path, value: Value | undefined): string {
  const doc = parse(text);
  if (doc.errors.length > 0) throw new Error('fix the YAML syntax error first');
  const node = doc.getIn(path, true);
  if (value !== undefined && !Array.isArray(value) && typeof value !== 'object' && isScalar(node) && node.range) {
    const [start, end] = node.range;
    return text.slice(0, start) + scalarText(value) + text.slice(end);
  }
  if (Array.isArray(value) && isSeq(node) && node.flow === true && node.range) {
    const [start, end] = node.range;
    const pad = /^\[\s/.test(text.slice(start, end)) ? ' ' : '';
    return `${text.slice(0, start)}[${pad}${value.map(scalarText).join(', ')}${pad}]${text.slice(end)}`;
  }
  const before = doc.toString(WRITE);
  if (value === undefined) removeIn(doc, path);
  else doc.setIn(path, doc.createNode(value, { flow: Array.isArray(value) }));
  return keepUnchangedLines(text, before, doc.toString(WRITE));
}

/** Removes `path`, then each mapping it leaves empty (an empty `encoding: webp:` is not a rule). */
function removeIn(doc: Document, path: Path): void {
  doc.deleteIn(path);
  for (let depth = path.length - 1; depth > 0; depth--) {
    const parent = doc.getIn(path.slice(0, depth), true);
    if (!isMap(parent) || parent.items.length > 0) break;
    doc.deleteIn(path.slice(0, depth));
  }
}

/**
 * The document API rewrites every line in its own style. `before` and `after` are its writing of
 * the text before and after the edit, line for line with `original` (it keeps lines, comments
 * and blank lines, only spacing inside lines differs): the lines the edit did not change come
 * from `original`, the others from `after`.
 */
export function keepUnchangedLines(original: string, before: string, after: string): string {
  const orig = original.split('\n');
  const a = before.split('\n');
  const b = after.split('\n');
  if (orig.length !== a.length) return after;
  // Longest common subsequence of lines, by dynamic programming (a rules file is a few hundred lines).
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (j < b.length) {
    if (i < a.length && a[i] === b[j]) {
      out.push(orig[i]!);
      i++;
      j++;
    } else if (i < a.length && lcs[i + 1]![j]! >= lcs[i]![j + 1]!) {
      i++;
    } else {
      out.push(b[j]!);
      j++;
    }
  }
  return out.join('\n');
}

/** One badge of a type, as the form shows it. */
export interface OverlayForm {
  flag: string;
  gravity: string;
  scale: number;
  minWidth: number | undefined;
}

/** What the draft form shows of one type, read from the text (defaults where the rules are silent). */
export interface TypeForm {
  sizes: string[];
  sizePolicy: string;
  crop: string;
  fit: string;
  formats: string[];
  /** Per format: the type's own quality and effort, and the global ones they override. */
  encoding: Record<string, { quality?: number; effort?: number; globalQuality?: number; globalEffort?: number }>;
  overlays: OverlayForm[];
}

type Json = Record<string, unknown>;
const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
const str = (v: unknown, otherwise: string) => (typeof v === 'string' ? v : otherwise);

export function readTypeForm(text: string, type: string): TypeForm | undefined {
  const doc = parse(text);
  if (doc.errors.length > 0) return undefined;
  const all = doc.toJSON() as Json | null;
  const t = (all?.types as Json | undefined)?.[type] as Json | undefined;
  if (!t) return undefined;
  const formats = Array.isArray(t.formats) ? t.formats.map(String) : [];
  const own = (t.encoding ?? {}) as Record<string, Json>;
  const global = (all?.encoding ?? {}) as Record<string, Json>;
  const encoding: TypeForm['encoding'] = {};
  for (const f of formats) {
    encoding[f] = {
      quality: num(own[f]?.quality),
      effort: num(own[f]?.effort),
      globalQuality: num(global[f]?.quality),
      globalEffort: num(global[f]?.effort),
    };
  }
  const overlays = (Array.isArray(t.overlays) ? t.overlays : []).map((o: Json) => ({
    flag: str(o.flag, ''),
    gravity: str(o.gravity, 'northeast'),
    scale: num(o.scale) ?? 0.2,
    minWidth: num(o.minWidth),
  }));
  return {
    sizes: Array.isArray(t.sizes) ? t.sizes.map(String) : [],
    sizePolicy: typeof t.sizePolicy === 'string' ? t.sizePolicy : 'snap',
    crop: typeof t.crop === 'string' ? t.crop : 'focal',
    fit: typeof t.fit === 'string' ? t.fit : 'cover',
    formats,
    encoding,
    overlays,
  };
}
