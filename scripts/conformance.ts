/**
 * `npm run conformance -- <dir>`: runs every case under a request-signing vector directory, prints one
 * line per case and `N passed, M failed`, and exits non-zero when anything failed.
 */
import { resolve } from 'node:path';
import {
  formatConformanceReport,
  runConformance,
} from '../lib/testing/conformance/conformance-runner.js';

const directory = resolve(process.argv[2] ?? '../shared/vectors/request-signing');
const results = await runConformance(directory);
console.log(formatConformanceReport(results));
process.exitCode = results.length > 0 && results.every((r) => r.passed) ? 0 : 1;
