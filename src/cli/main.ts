#!/usr/bin/env node
import { run } from './commands.js';

const code = await run(process.argv.slice(2), process.env);
if (code !== 0) process.exitCode = code;
