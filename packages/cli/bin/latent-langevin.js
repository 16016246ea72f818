#!/usr/bin/env node
// Launcher of the `latent-langevin` command; the command itself is built to dist/bin.js.
import '../dist/bin.js';
