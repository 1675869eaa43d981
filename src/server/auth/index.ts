export { createAuthRouter } from "./router.ts";
export {
  createAuthorizationServer,
  type AuthorizationServer,
  type AuthorizationServerDeps,
} from "./authorization-server.ts";
export { requireBearer, insufficientScope, type RequireBearerOptions } from "./bearer.ts";
export type { AuthDeps, BearerDeps } from "./context.ts";
export { RevocationList } from "./revocation-list.ts";
export { defaultRateLimits, type RateLimitSettings } from "./rate-limit.ts";
export { authUrls, authPaths, type AuthUrls } from "./urls.ts";
