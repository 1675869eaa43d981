/**
 * Bottleneck 2.19.5 on Redis ≥ 7: a clustered limiter whose Redis keys expired (idle timeout, Redis restart) must
 * re-register itself. Bottleneck decides that by comparing a Lua error's text exactly with
 * `"SETTINGS_KEY_NOT_FOUND"` / `"UNKNOWN_CLIENT"`, but Redis 7 prefixes `redis.error_reply` texts with `"ERR "`, so
 * unfixed every later job of that limiter fails (bottleneck issues #205, #212, #219; the project is unmaintained
 * since 2020, so no release will fix it).
 *
 * The fix is applied here, at import, rather than as a patch-package patch on install: an install-time patch cannot
 * reach Bottleneck when this package is itself installed as a dependency (`npx airtable-oauth-mcp`), where npm
 * hoists `bottleneck` out of the package's own `node_modules` and patch-package fails the install. Every script call
 * of every `Bottleneck.IORedisConnection` goes through `__scriptFn__(name)`; the wrapper strips the `ERR ` prefix
 * from exactly those two messages before Bottleneck's callback sees them, so Bottleneck's own recovery path runs. Nothing else changes.
 *
 * Idempotent; `bottleneckRedis7Fix.applied` says whether this module found the method it wraps (false means a
 * Bottleneck version with a different internal shape: the tests in tests/shared/limiter/bottleneck-redis7.test.ts
 * then fail instead of production).
 */
import Bottleneck from "bottleneck";

const wrapped = Symbol.for("airtable-oauth-mcp.bottleneck-redis7");
const prefixed = /^ERR (SETTINGS_KEY_NOT_FOUND|UNKNOWN_CLIENT)$/;

type ScriptFn = (...args: unknown[]) => Promise<unknown>;
interface ConnectionInternals {
  __scriptFn__?: ((name: string) => ScriptFn) & { [wrapped]?: true };
}

function apply(): boolean {
  const prototype = Bottleneck.IORedisConnection.prototype as unknown as ConnectionInternals;
  const original = prototype.__scriptFn__;
  if (typeof original !== "function") return false;
  if (original[wrapped]) return true;
  const fixed = function (this: unknown, name: string): ScriptFn {
    const call = original.call(this, name);
    // Bottleneck passes a node-style callback as the last argument and reads the error from it.
    return (...args: unknown[]) => {
      const callback = args.at(-1);
      if (typeof callback === "function") {
        args[args.length - 1] = (error: unknown, reply: unknown) => {
          if (error instanceof Error) {
            const match = prefixed.exec(error.message);
            if (match) error.message = match[1]!;
          }
          return (callback as (error: unknown, reply: unknown) => unknown)(error, reply);
        };
      }
      return call(...args);
    };
  };
  prototype.__scriptFn__ = Object.assign(fixed, { [wrapped]: true as const });
  return true;
}

export const bottleneckRedis7Fix = { applied: apply() };
