#!/usr/bin/env node
// The TypeScript client's conformance adapter. The sources are TypeScript, so tsx's loader is registered first
// (without a tsconfig: the adapter must not depend on the working directory), then the adapter runs.
import { register } from 'tsx/esm/api';

register({ tsconfig: false });
await import('./run.ts');
