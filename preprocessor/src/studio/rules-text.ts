import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import type { RulesProblem } from '@marquee/shared';
import { RulesError, parseRules } from '../rules/load.js';
import type { Rules } from '../rules/schema.js';

export type CheckedRules = { ok: true; rules: Rules } | { ok: false; problem: RulesProblem };

/**
 * A rules text checked by the loader itself (`parseRules`, the function that guards what the
 * Preprocessor serves), its refusal placed on a line: the loader names the field by JSON
 * pointer, and the YAML document says where that field is written.
 */
export function checkRulesText(text: string, origin: string): CheckedRules {
  try {
    return { ok: true, rules: parseRules(text, origin) };
  } catch (err) {
    if (!(err instanceof RulesError)) throw err;
    return { ok: false, problem: placeProblem(text, err) };
  }
}

function placeProblem(text: string, err: RulesError): RulesProblem {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const problem: RulesProblem = { message: err.message };
  // A syntax error: the YAML parser's own position (the loader's message already names it).
  const syntax = doc.errors[0];
  const offset = syntax ? syntax.pos[0] : err.path === undefined ? undefined : offsetOf(doc.contents, err.path);
  if (err.path !== undefined) problem.field = err.path || '/';
  if (offset !== undefined) {
    const { line, col } = lineCounter.linePos(offset);
    problem.line = line;
    problem.column = col;
  }
  return problem;
}

/** `~1` is `/`, `~0` is `~` (RFC 6901). */
function segmentsOf(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/**
 * Where the field at `pointer` is written: its value, or for a field that is missing (`is
 * required`) the nearest mapping or list that should hold it.
 */
function offsetOf(root: unknown, pointer: string): number | undefined {
  let node = root as Node | null | undefined;
  let at = node?.range?.[0];
  for (const segment of segmentsOf(pointer)) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === segment);
      if (!pair) break;
      const key = pair.key as Node | null;
      const value = pair.value as Node | null;
      at = value?.range?.[0] ?? key?.range?.[0] ?? at;
      node = value;
    } else if (isSeq(node)) {
      const item = node.items[Number(segment)] as Node | undefined;
      if (!item) break;
      at = item.range?.[0] ?? at;
      node = item;
    } else {
      break;
    }
  }
  return at;
}
