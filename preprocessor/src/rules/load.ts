import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import type { TSchema, Static } from '@sinclair/typebox';
import { parseDocument } from 'yaml';
import { RulesError } from './errors.js';
import { CatalogSchema, RulesSchema, type Catalog, type Rules } from './schema.js';
import { checkCatalog, checkRules } from './semantics.js';

export { RulesError, isRulesError } from './errors.js';

/**
 * The rules from YAML text. `origin` names the document in errors (a path or
 * an `s3://` URL). Throws a RulesError naming the field at fault.
 */
export function parseRules(text: string, origin: string): Rules {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const at = syntax.linePos?.[0];
    const where = at ? `line ${at.line}, column ${at.col}` : `offset ${syntax.pos[0]}`;
    throw new RulesError(origin, undefined, `YAML syntax error at ${where}: ${firstLine(syntax.message)}`, {
      cause: syntax,
    });
  }
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  checkVersion(value, origin);
  const rules = validate(checkRulesShape, value, origin);
  checkRules(rules, origin);
  return rules;
}

/** The catalog from JSON text; throws a RulesError naming the field at fault. */
export function parseCatalog(text: string, origin: string): Catalog {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new RulesError(origin, undefined, `JSON syntax error${jsonWhere(text, err)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  checkVersion(value, origin);
  const catalog = validate(checkCatalogShape, value, origin);
  checkCatalog(catalog, origin);
  return catalog;
}

/** A document of another version is refused on `version` first, not on whatever field differs. */
function checkVersion(value: unknown, origin: string): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new RulesError(origin, '', `expected a mapping with version: 1, got ${preview(value)}`);
  }
  const version = (value as { version?: unknown }).version;
  if (version !== 1) throw new RulesError(origin, '/version', `expected 1 (the only version), got ${preview(version)}`);
}

const checkRulesShape = TypeCompiler.Compile(RulesSchema);
const checkCatalogShape = TypeCompiler.Compile(CatalogSchema);

function validate<T extends TSchema>(check: TypeCheck<T>, value: unknown, origin: string): Static<T> {
  if (check.Check(value)) return value;
  const first = check.Errors(value).First();
  if (!first) throw new RulesError(origin, '', 'is invalid');
  throw new RulesError(origin, first.path, describe(first));
}

/** "expected WxH like 342x513, got "342-513"": our wording when the schema has one. */
function describe(error: ValueError): string {
  if (error.type === ValueErrorType.ObjectRequiredProperty) return 'is required';
  if (error.type === ValueErrorType.ObjectAdditionalProperties) return 'unknown field';
  const own = (error.schema as { errorMessage?: unknown }).errorMessage;
  const expected = typeof own === 'string' ? own : lowerFirst(error.message);
  return `${expected}, got ${preview(error.value)}`;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** A short rendering of a bad value for a log line. */
export function preview(value: unknown): string {
  if (value === undefined) return 'nothing';
  // JSON.stringify gives nothing for functions and symbols: name their kind instead.
  const text = JSON.stringify(value) ?? `a ${typeof value}`;
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** yaml's message without its own position suffix and source excerpt (we print the position once). */
function firstLine(text: string): string {
  return (text.split('\n', 1)[0] ?? text).replace(/ at line \d+, column \d+:?$/, '');
}

/** " at line L, column C" from V8's "at position N", when it says so. */
function jsonWhere(text: string, err: unknown): string {
  const match = /position (\d+)/.exec((err as Error).message);
  if (!match) return '';
  const before = text.slice(0, Number(match[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return ` at line ${line}, column ${column}`;
}
