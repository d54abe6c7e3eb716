// s3rver in its own process for the benchmark, so its work does not share the
// measured process's event loop. Prints {"endpoint": …} once listening.
import { startS3 } from '../test/helpers/s3.js';

const teardowns: Array<() => unknown> = [];
const s3 = await startS3({ teardown: (fn) => void teardowns.push(fn) }, ['sources']);
process.stdout.write(`${JSON.stringify({ endpoint: s3.endpoint })}\n`);
const stop = async () => {
  for (const fn of teardowns.reverse()) await fn();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
