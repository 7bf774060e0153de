/** Starts the TypeScript client's adapter (see main.ts). */

import { runAdapter } from './main.ts';

await runAdapter();
