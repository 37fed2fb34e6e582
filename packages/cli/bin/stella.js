#!/usr/bin/env node
// Sources run through tsx (no build step): register its loader, then start the CLI.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
