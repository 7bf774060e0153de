#!/usr/bin/env node
/** Entry point of `vibestack-conformance` (run with tsx: `npx tsx conformance/src/cli.ts record …`). */

import { main } from './cli/main.ts';

process.exitCode = await main(process.argv.slice(2));
