/**
 * Composition root of the worker tier. The write pipeline (BullMQ operations, batches under the shared
 * limiter, crash-safe resume) is issue 4 and is not built yet: until then this process refuses to start
 * rather than pretend to process writes.
 */
import { ConfigError, loadConfig } from "../shared/config.ts";

try {
  loadConfig(process.env, "worker");
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
process.stderr.write("The worker (write pipeline) is not implemented yet; see issue 4. Nothing to run.\n");
process.exit(2);
