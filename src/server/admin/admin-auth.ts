import type { RequestHandler } from "express";
import { ADMIN_CHALLENGE, presentsAdminToken } from "../../shared/admin-auth.ts";

/**
 * Lets a request through only when it presents ADMIN_TOKEN (Bearer, or Basic with any user name); otherwise 401
 * with a challenge that makes a browser ask for it. Admin answers are never cached by proxies or browsers.
 */
export function requireAdminToken(adminToken: string): RequestHandler {
  return (req, res, next) => {
    res.setHeader("Cache-Control", "no-store");
    if (presentsAdminToken(req.headers.authorization, adminToken)) return next();
    res.setHeader("WWW-Authenticate", ADMIN_CHALLENGE);
    res.status(401).json({
      error: "unauthorized",
      error_description:
        "This admin page needs ADMIN_TOKEN: send Authorization: Bearer <token>, or sign in with any user name and the token as password.",
    });
  };
}
