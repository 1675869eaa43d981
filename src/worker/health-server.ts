/**
 * The worker's HTTP port, because Cloud Run probes need one: `/healthz` (the process is alive) and `/readyz`
 * (Redis and the token store answer; 503 otherwise). With ADMIN_TOKEN set, also `/metrics` (Prometheus) behind
 * the same admin check as the server's. Nothing else is served here.
 */
import { createServer, type Server } from "node:http";
import { ADMIN_CHALLENGE, presentsAdminToken } from "../shared/admin-auth.ts";
import { failingChecks, type ReadinessChecks } from "../shared/readiness.ts";

export interface HealthChecks {
  /** Each check resolves when its dependency answers, rejects otherwise. */
  ready: ReadinessChecks;
  /** `/metrics`, for requests presenting `adminToken`; absent: `/metrics` is 404 like any unknown path. */
  metrics?: {
    adminToken: string;
    render(): Promise<{ contentType: string; body: string }>;
  };
}

export function createHealthServer(checks: HealthChecks): Server {
  return createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET") return send(405, { error: "method not allowed" });
    if (path === "/healthz") return send(200, { status: "ok" });
    if (path === "/readyz") {
      void failingChecks(checks.ready).then((failing) => {
        if (failing.length === 0) send(200, { status: "ready" });
        else send(503, { status: "unavailable", failing });
      });
      return;
    }
    const metrics = checks.metrics;
    if (path === "/metrics" && metrics !== undefined) {
      if (!presentsAdminToken(req.headers.authorization, metrics.adminToken)) {
        res.setHeader("WWW-Authenticate", ADMIN_CHALLENGE);
        return send(401, { error: "admin token required (Authorization: Bearer <ADMIN_TOKEN>)" });
      }
      void metrics.render().then(
        ({ contentType, body }) => {
          res.writeHead(200, { "content-type": contentType });
          res.end(body);
        },
        () => send(500, { error: "metrics could not be collected" }),
      );
      return;
    }
    send(404, { error: "not found" });
  });
}
