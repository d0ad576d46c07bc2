#!/usr/bin/env node
// The `revtrail` command: the desktop core, run from its TypeScript sources through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
