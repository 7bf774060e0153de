#!/usr/bin/env node
// The `vibestack-conformance` command. The package ships TypeScript source, so tsx's loader is registered first
// (without any tsconfig: the CLI must not depend on the caller's working directory), then the CLI runs.
import { register } from 'tsx/esm/api';

register({ tsconfig: false });
const { main } = await import('../src/cli/main.ts');
process.exit(await main(process.argv.slice(2)));
