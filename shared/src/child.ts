import { fileURLToPath } from 'node:url';

/**
 * The script `name` beside the calling module (`import.meta.url`), and the loader it needs.
 * Compiled, both are JavaScript. Under tsx (tests, `node --import tsx`) the caller is TypeScript
 * and so is its sibling: the child gets tsx, resolved to a path so the child's working directory
 * does not matter, and nothing inherited from the parent's `execArgv`.
 */
export function siblingScript(callerUrl: string, name: string): { file: string; execArgv: string[] } {
  const ts = callerUrl.endsWith('.ts');
  return {
    file: fileURLToPath(new URL(`./${name}.${ts ? 'ts' : 'js'}`, callerUrl)),
    execArgv: ts ? [`--import=${import.meta.resolve('tsx')}`] : [],
  };
}
