/**
 * Numbers from text, strictly: the one reading of a number that a URL, a form or an environment
 * variable carries. `Number()` and ajv's coercion accept ` 100`, `0x10`, `1e3` and `Infinity`;
 * a cache key, a signature and a log must never disagree with what was rendered, so here a
 * number is written one way only.
 */

/** Decimal digits, no sign, space, exponent or hex; no leading zero except `0` itself. */
const INTEGER = /^(?:0|[1-9][0-9]{0,14})$/;
/** A fraction 0..1 written plainly: `0`, `1`, `0.25`, `1.0`; no exponent, no bare `.5`. */
const FRACTION = /^(?:0(?:\.[0-9]{1,17})?|1(?:\.0{1,17})?)$/;

/** The integer `text` spells, when it is in `min..max`; otherwise undefined. */
export function readInteger(text: string, min: number, max: number): number | undefined {
  if (!INTEGER.test(text)) return undefined;
  const value = Number(text);
  return value >= min && value <= max ? value : undefined;
}

/** The fraction 0..1 `text` spells; otherwise undefined. */
export function readFraction(text: string): number | undefined {
  return FRACTION.test(text) ? Number(text) : undefined;
}

/** The noun for `count` things: `one` for exactly one, else `many` (`1 path`, `0 paths`, `2 paths`). */
export function plural(count: number, one: string, many = `${one}s`): string {
  return count === 1 ? one : many;
}

/** A count and its noun: `1 file`, `3 files`. */
export function counted(count: number, one: string, many = `${one}s`): string {
  return `${count} ${plural(count, one, many)}`;
}

/** What a refusal shows of the text it refused: bounded and quoted. */
export function quoteInput(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
