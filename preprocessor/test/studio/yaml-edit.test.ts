import t from 'tap';
import { readFile } from 'node:fs/promises';
import { parseRules } from '../../src/rules/load.js';
import { editRules, readTypeForm, valueAt } from '../../studio-ui/yaml-edit.js';
import { RULES } from './harness.js';

/**
 * The draft form's edits of the rules text: what it changes is what the loader then reads, and
 * every line it does not change stays as written (comments, flow style, spacing).
 */
const text = await readFile(RULES, 'utf8');

/** The lines of `after` that are not lines of `before` (counting repeats), in order. */
function changedLines(before: string, after: string): string[] {
  const old = new Map<string, number>();
  for (const line of before.split('\n')) old.set(line, (old.get(line) ?? 0) + 1);
  return after.split('\n').filter((line) => {
    const left = old.get(line) ?? 0;
    if (left > 0) old.set(line, left - 1);
    return left === 0;
  });
}

t.test('a badge scale: one value replaced in place, the rules read it', async (t) => {
  const edited = editRules(text, ['types', 'boxshot', 'overlays', 0, 'scale'], 0.4);
  t.same(changedLines(text, edited), [
    '      - { flag: top10, source: badges/top10.png, gravity: northeast, scale: 0.4, minWidth: 160 }',
  ]);
  t.equal(edited.split('\n').length, text.split('\n').length);
  t.equal(parseRules(edited, 'edited').types.boxshot?.overlays?.[0]?.scale, 0.4);
});

t.test('sizes: the flow list rewritten in its own style', async (t) => {
  const edited = editRules(text, ['types', 'boxshot', 'sizes'], ['171x256', '342x513', '684x1026', '228x342']);
  t.same(changedLines(text, edited), ['    sizes: [171x256, 342x513, 684x1026, 228x342]']);
  t.same(parseRules(edited, 'edited').types.boxshot?.sizes, ['171x256', '342x513', '684x1026', '228x342']);
  const quoted = editRules(text, ['types', 'boxshot', 'sizes'], ['171x256', '1e3', 'true']);
  t.same(valueAt(quoted, ['types', 'boxshot', 'sizes']), ['171x256', '1e3', 'true'], 'strings stay strings');
});

t.test('a field the type does not have yet: added, every other line kept as written', async (t) => {
  const edited = editRules(text, ['types', 'boxshot', 'encoding', 'webp', 'quality'], 70);
  const added = changedLines(text, edited);
  t.same(added.sort(), ['        quality: 70', '      webp:', '    encoding:'], 'three new lines, nothing else');
  t.equal(edited.split('\n').length, text.split('\n').length + 3);
  const rules = parseRules(edited, 'edited');
  t.equal(rules.types.boxshot?.encoding?.webp?.quality, 70);
  t.equal(valueAt(edited, ['types', 'boxshot', 'encoding', 'webp', 'quality']), 70);

  // Cleared again: the mappings it leaves empty go too, and the text is as it was.
  const cleared = editRules(edited, ['types', 'boxshot', 'encoding', 'webp', 'quality'], undefined);
  t.equal(cleared, text);
});

t.test('the form reads the type with the rules’ defaults', async (t) => {
  const form = readTypeForm(text, 'boxshot');
  t.match(form, {
    sizes: ['171x256', '342x513', '684x1026'],
    sizePolicy: 'snap',
    crop: 'focal',
    fit: 'cover',
    formats: ['avif', 'webp', 'jpeg'],
    overlays: [
      { flag: 'top10', gravity: 'northeast', scale: 0.22, minWidth: 160 },
      { flag: 'new', gravity: 'southwest', scale: 0.3, minWidth: 320 },
    ],
  });
  t.same(form?.encoding.avif, { quality: undefined, effort: undefined, globalQuality: 50, globalEffort: 2 });
  t.equal(readTypeForm(text, 'billboard')?.encoding.avif?.quality, 45, 'a type’s own quality');
  t.equal(readTypeForm('types: [', 'boxshot'), undefined, 'nothing from a broken text');
});
