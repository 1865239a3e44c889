#!/usr/bin/env node
import '../dist/agent/src/main.js';
