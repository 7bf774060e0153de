#!/usr/bin/env node
// Runs a deliberately broken adapter (broken-adapter.ts) through tsx. Test-only.
import { register } from 'tsx/esm/api';

register({ tsconfig: false });
await import('./broken-adapter.ts');
