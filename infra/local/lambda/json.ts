/**
 * Whether a request payload is JSON, without building it. Lambda refuses a body that is not
 * JSON (400 InvalidRequestContentException) before anything runs, so the endpoint checks every
 * payload; the runtime then parses it once, for the handler. A `JSON.parse` here only to throw
 * the value away would cost a second parse and its garbage, in proportion to the payload. This
 * accepts exactly what `JSON.parse` accepts (RFC 8259; tested against it), allocating nothing
 * per value. (Parsing once here and sending the value to the runtime instead costs more:
 * structured-cloning many small objects over IPC is dearer than text plus a parse.)
 */

/**
 * The rest of a string after its opening quote: runs of plain characters, escapes between
 * them, the closing quote. Written as `plain*(escape plain*)*` so no input can make it
 * backtrack more than linearly.
 */
// eslint-disable-next-line no-control-regex -- JSON forbids exactly these characters unescaped in a string.
const STRING_REST = /[^"\\\u0000-\u001f]*(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\u0000-\u001f]*)*"/y;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

const OBJECT = 0;
const ARRAY = 1;

/** Index past the whitespace JSON allows (space, tab, line feed, carriage return) from `i`. */
function skipSpace(s: string, i: number): number {
  for (;;) {
    const c = s.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i++;
  }
}

/** Index past the string starting at `i` (a `"`), or -1 when there is none. */
function skipString(s: string, i: number): number {
  if (s.charCodeAt(i) !== 0x22) return -1;
  STRING_REST.lastIndex = i + 1;
  return STRING_REST.test(s) ? STRING_REST.lastIndex : -1;
}

/** Index past `"key" :` starting at `i`, or -1. */
function skipKey(s: string, i: number): number {
  const end = skipString(s, i);
  if (end === -1) return -1;
  const colon = skipSpace(s, end);
  return s.charCodeAt(colon) === 0x3a ? colon + 1 : -1;
}

/** Index past a scalar (string, number, literal) starting at `i`, or -1. */
function skipScalar(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === 0x22) return skipString(s, i);
  if (c === 0x74) return s.startsWith('true', i) ? i + 4 : -1;
  if (c === 0x66) return s.startsWith('false', i) ? i + 5 : -1;
  if (c === 0x6e) return s.startsWith('null', i) ? i + 4 : -1;
  NUMBER.lastIndex = i;
  return NUMBER.test(s) ? NUMBER.lastIndex : -1;
}

/**
 * Whether `text` is one JSON value with optional whitespace around it. Iterative, with an
 * explicit stack of open containers, so nesting depth costs memory, not call stack.
 */
export function isJsonText(text: string): boolean {
  const open: number[] = [];
  let i = 0;
  for (;;) {
    // A value is expected at i.
    i = skipSpace(text, i);
    const c = text.charCodeAt(i);
    if (c === 0x7b || c === 0x5b) {
      const close = c === 0x7b ? 0x7d : 0x5d;
      const next = skipSpace(text, i + 1);
      if (text.charCodeAt(next) !== close) {
        open.push(c === 0x7b ? OBJECT : ARRAY);
        i = c === 0x7b ? skipKey(text, next) : next;
        if (i === -1) return false;
        continue;
      }
      i = next + 1;
    } else {
      i = skipScalar(text, i);
      if (i === -1) return false;
    }
    // After a value: close containers until a comma asks for the next value.
    for (;;) {
      i = skipSpace(text, i);
      const top = open.at(-1);
      if (top === undefined) return i === text.length;
      const c = text.charCodeAt(i);
      if (c === 0x2c) {
        i = top === OBJECT ? skipKey(text, skipSpace(text, i + 1)) : i + 1;
        if (i === -1) return false;
        break;
      }
      if (c !== (top === OBJECT ? 0x7d : 0x5d)) return false;
      open.pop();
      i++;
    }
  }
}
