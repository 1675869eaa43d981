import { tmpdir } from "node:os";
import path from "node:path";

/**
 * Node's compile cache for the Node processes the tests start (the server, the worker, `stdio`, the demo…): Node
 * keeps the code it compiled (and the TypeScript it stripped) in this directory, keyed by the source, and a later
 * start of the same files reads it instead of compiling them again (`NODE_COMPILE_CACHE`; the directory is the one
 * `module.enableCompileCache()` picks, as npm and tsc use it). It changes no behaviour, only the CPU a start costs:
 * ~1.1 → ~0.55 s for `src/cli.ts stdio`, and a third less CPU for a file that starts many processes (run-stdio
 * 38 → 29 s, start/main 19 → 13 s, session 34), on the 2-core CI host where such starts compete for the cores.
 * Spread it into a child's environment beside PATH and HOME.
 */
export const compileCacheEnv: { NODE_COMPILE_CACHE: string } = {
  NODE_COMPILE_CACHE: path.join(tmpdir(), "node-compile-cache"),
};
