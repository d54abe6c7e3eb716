import type { RulesProblem } from '@marquee/shared';

/**
 * What a refusal of the draft's text says beyond what the panel shows beside it. The loader's
 * message names the document (`draft <id>: `) and the field (`/types/boxshot/overlays/0/scale: `);
 * the panel shows the draft in its heading and the field on its own, so the detail is the rest.
 */
export function problemDetail(problem: RulesProblem): string {
  const text = problem.message.replace(/^draft [0-9a-f]{16}: /, '');
  const field = problem.field === undefined ? undefined : `${problem.field}: `;
  return field !== undefined && text.startsWith(field) ? text.slice(field.length) : text;
}
