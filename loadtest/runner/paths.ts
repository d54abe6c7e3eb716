import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** `loadtest/reports/`, from the compiled (`loadtest/dist/<dir>/`) or the source (`loadtest/<dir>/`) module. */
export function reportsDir(moduleUrl: string): string {
  const dir = path.dirname(fileURLToPath(moduleUrl));
  const up = dir.split(path.sep).includes('dist') ? ['..', '..'] : ['..'];
  return path.resolve(dir, ...up, 'reports');
}
