/**
 * `npm run demo`: the sample seller end to end on embedded defaults (see `demo-walkthrough.ts`). Exits 0
 * only if every outcome is the expected one. `ADCP_HTTP_ADAPTER=fastify` runs it on Fastify;
 * `DEMO_VERBOSE=1` adds Nest's log lines.
 */
import { readServerConfig } from './adcp-signing.config.js';
import { runDemo } from './demo-walkthrough.js';

const { adapter } = readServerConfig({ ADCP_HTTP_ADAPTER: process.env.ADCP_HTTP_ADAPTER });
const failures = await runDemo({
  adapter,
  print: (line) => console.log(line),
  verbose: Boolean(process.env.DEMO_VERBOSE),
});
console.log(
  failures === 0
    ? '\ndemo: every outcome as expected'
    : `\ndemo: ${failures} unexpected outcome(s)`,
);
process.exitCode = failures === 0 ? 0 : 1;
