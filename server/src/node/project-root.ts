import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Absolute path of the monorepo root: the nearest ancestor of this file whose `package.json` declares
 * `workspaces`. Falls back to three levels up (`server/src/node` → root).
 */
export function findProjectRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  let dir = here;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { workspaces?: unknown };
        if (parsed.workspaces !== undefined) return dir;
      } catch {
        // An unreadable manifest is not the root; keep walking.
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return join(here, '..', '..', '..');
    dir = parent;
  }
}
