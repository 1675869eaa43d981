/**
 * `promise`'s outcome, or a rejection with `signal.reason` as soon as `signal` aborts (at once if it already has):
 * the caller stops waiting, while `promise` runs on and its later outcome is dropped (a rejection then counts as
 * handled). The abort listener goes when `promise` settles first. Shared by the limiter (a queued request whose
 * caller cancelled leaves the queue's wait at once), a read tool call's deadline (src/shared/tools/read-call.ts) and a
 * write call's wait for its operation when the process shuts down (run-write.ts).
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      promise.catch(() => undefined);
      reject(signal.reason as Error);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error as Error);
      },
    );
  });
}
