/**
 * deploy/: the Cloud Run manifests, cloudbuild.yaml and the commands of deploy/README.md, checked against each other
 * and against the code without Google Cloud: probes on /healthz at the port the process listens on, secrets only from
 * Secret Manager, Direct VPC egress, the scaling each tier needs, every `${VAR}` placeholder filled by the README's
 * envsubst, every secret and service account created and granted by the README, and a complete configuration for
 * src/shared/config.ts once Cloud Run has filled in the secrets.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { configSchema, loadConfig, type ProcessRole } from "../../src/shared/config.ts";
import { interpolate, readRepoFile, readYaml } from "./deploy-files.ts";

interface Probe {
  httpGet?: { path: string; port: number };
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface Container {
  image: string;
  ports?: { containerPort: number }[];
  env?: EnvVar[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    template: {
      metadata: { annotations: Record<string, string> };
      spec: { containerConcurrency?: number; serviceAccountName: string; containers: Container[] };
    };
  };
}

const manifests = {
  server: "deploy/server-service.yaml",
  workerPool: "deploy/worker-pool.yaml",
  workerService: "deploy/worker-service.yaml",
} as const;
type ManifestKey = keyof typeof manifests;

const read = (key: ManifestKey): Manifest => readYaml<Manifest>(manifests[key]);
const container = (m: Manifest): Container => {
  expect(m.spec.template.spec.containers).toHaveLength(1);
  return m.spec.template.spec.containers[0] as Container;
};
const envOf = (m: Manifest): EnvVar[] => container(m).env ?? [];
const plainValue = (m: Manifest, name: string): string | undefined => envOf(m).find((e) => e.name === name)?.value;
const readme = readRepoFile("deploy/README.md");

/** Values for the placeholders, as deploy/README.md's step 0 would set them. */
const placeholders = {
  PROJECT_ID: "my-project",
  REGION: "europe-west1",
  IMAGE_TAG: "abc1234",
  PUBLIC_URL: "https://airtable-mcp-server-123456789.europe-west1.run.app",
  AIRTABLE_CLIENT_ID: "a1b2c3d4-0000-4000-8000-000000000000",
};

/**
 * The environment Cloud Run gives the container: plain values with placeholders filled in, each secret resolved
 * (stand-in values of the right shape), and PORT set to the container port as Cloud Run does.
 */
function runtimeEnv(m: Manifest): Record<string, string> {
  const secrets: Record<string, string> = {
    "mcp-redis-url": "redis://:auth@10.0.0.3:6379",
    "mcp-token-encryption-key": randomBytes(32).toString("base64"),
    "mcp-airtable-client-secret": "airtable-client-secret",
    "mcp-admin-token": randomBytes(32).toString("hex"),
  };
  const env: Record<string, string> = {};
  for (const e of envOf(interpolate(m, placeholders))) {
    const secret = e.valueFrom?.secretKeyRef?.name;
    env[e.name] = secret === undefined ? (e.value as string) : (secrets[secret] as string);
  }
  const port = container(m).ports?.[0]?.containerPort;
  if (port !== undefined) env.PORT = String(port);
  return env;
}

describe.each([
  ["server", "server"],
  ["workerPool", "worker"],
  ["workerService", "worker"],
] as const)("%s manifest", (key: ManifestKey, role: ProcessRole) => {
  const m = read(key);
  const annotations = m.spec.template.metadata.annotations;

  it("probes /healthz (startup and liveness) on the port the process listens on", () => {
    const c = container(m);
    const listenPort = Number(role === "server" ? c.ports?.[0]?.containerPort : plainValue(m, "HEALTH_PORT"));
    expect(listenPort).toBeGreaterThan(0);
    for (const probe of [c.startupProbe, c.livenessProbe]) {
      expect(probe?.httpGet).toEqual({ path: "/healthz", port: listenPort });
      // Cloud Run refuses a probe whose timeout exceeds its period.
      expect(probe?.timeoutSeconds).toBeLessThanOrEqual(probe?.periodSeconds as number);
    }
    // Startup may take at most 240 s on Cloud Run.
    const s = c.startupProbe as Required<Probe>;
    expect(s.periodSeconds * s.failureThreshold).toBeLessThanOrEqual(240);
  });

  it("takes every secret from Secret Manager and never sets one as a plain value", () => {
    const secretNames = ["REDIS_URL", "TOKEN_ENCRYPTION_KEY", "AIRTABLE_CLIENT_SECRET", "ADMIN_TOKEN"];
    for (const name of secretNames) {
      const e = envOf(m).find((v) => v.name === name);
      expect(e?.value, name).toBeUndefined();
      expect(e?.valueFrom?.secretKeyRef, name).toEqual({ name: expect.stringMatching(/^mcp-/), key: "latest" });
    }
    for (const e of envOf(m)) {
      if (e.value !== undefined) expect(e.name).not.toMatch(/SECRET|KEY$|TOKEN$|PASSWORD|REDIS_URL/);
    }
  });

  it("reaches Memorystore over Direct VPC egress, private ranges only", () => {
    const interfaces = JSON.parse(annotations["run.googleapis.com/network-interfaces"] as string) as unknown[];
    expect(interfaces).toEqual([{ network: expect.any(String), subnetwork: expect.any(String) }]);
    expect(annotations["run.googleapis.com/vpc-access-egress"]).toBe("private-ranges-only");
    expect(annotations["run.googleapis.com/vpc-access-connector"]).toBeUndefined();
  });

  it("keeps grants and tokens in Firestore, in the deployment's project", () => {
    expect(plainValue(m, "TOKEN_STORE")).toBe("firestore");
    expect(plainValue(m, "FIRESTORE_PROJECT_ID")).toBe("${PROJECT_ID}");
  });

  it("names only variables src/shared/config.ts knows, and never PORT (Cloud Run reserves it)", () => {
    const known = new Set(Object.keys(configSchema.shape));
    for (const e of envOf(m)) expect(known, e.name).toContain(e.name);
    expect(envOf(m).map((e) => e.name)).not.toContain("PORT");
  });

  it(`gives the ${role} a complete, valid configuration once Cloud Run fills in the secrets`, () => {
    expect(() => loadConfig(runtimeEnv(m), role)).not.toThrow();
  });

  it("runs the image cloudbuild.yaml pushes, as its own service account", () => {
    const build = readYaml<{ images: string[]; substitutions: Record<string, string> }>("deploy/cloudbuild.yaml");
    const pushed = build.images.map((image) =>
      interpolate(image, {
        ...build.substitutions,
        _REGION: placeholders.REGION,
        PROJECT_ID: placeholders.PROJECT_ID,
        _TAG: placeholders.IMAGE_TAG,
      }),
    );
    const image = interpolate(container(m).image, placeholders);
    expect(pushed).toContain(image);
    expect(image).toMatch(role === "server" ? /\/server:/ : /\/worker:/);
    expect(m.spec.template.spec.serviceAccountName).toBe(`airtable-mcp-${role}@\${PROJECT_ID}.iam.gserviceaccount.com`);
  });
});

describe("scaling", () => {
  it("server: 80 concurrent requests per instance, at least one warm instance, a ceiling above it", () => {
    const m = read("server");
    expect(m.apiVersion).toBe("serving.knative.dev/v1");
    expect(m.kind).toBe("Service");
    expect(m.spec.template.spec.containerConcurrency).toBe(80);
    const a = m.spec.template.metadata.annotations;
    const min = Number(a["autoscaling.knative.dev/minScale"]);
    const max = Number(a["autoscaling.knative.dev/maxScale"]);
    expect(min).toBeGreaterThanOrEqual(1);
    expect(max).toBeGreaterThan(min);
    expect(plainValue(m, "TRUST_PROXY")).toBe("1");
    expect(plainValue(m, "PUBLIC_URL")).toBe("${PUBLIC_URL}");
  });

  it("worker pool: a Cloud Run WorkerPool with a fixed count of at least two", () => {
    const m = read("workerPool");
    expect(m.apiVersion).toBe("run.googleapis.com/v1");
    expect(m.kind).toBe("WorkerPool");
    expect(m.metadata.annotations?.["run.googleapis.com/scalingMode"]).toBe("manual");
    expect(Number(m.metadata.annotations?.["run.googleapis.com/manualInstanceCount"])).toBeGreaterThanOrEqual(2);
  });

  it("worker as a service: CPU always allocated, min = max instances (at least two), internal ingress", () => {
    const m = read("workerService");
    expect(m.kind).toBe("Service");
    const a = m.spec.template.metadata.annotations;
    expect(a["run.googleapis.com/cpu-throttling"]).toBe("false");
    expect(a["autoscaling.knative.dev/minScale"]).toBe(a["autoscaling.knative.dev/maxScale"]);
    expect(Number(a["autoscaling.knative.dev/minScale"])).toBeGreaterThanOrEqual(2);
    expect(m.metadata.annotations?.["run.googleapis.com/ingress"]).toBe("internal");
    // A service must listen on its container port: the worker's health server is that listener.
    expect(String(container(m).ports?.[0]?.containerPort)).toBe(plainValue(m, "HEALTH_PORT"));
  });
});

describe("cloudbuild.yaml", () => {
  const build = readYaml<{
    steps: { id: string; name: string; args: string[] }[];
    images: string[];
    substitutions: Record<string, string>;
  }>("deploy/cloudbuild.yaml");

  it("builds both Dockerfiles and pushes exactly the images it tags", () => {
    const tagged = build.steps.map((s) => {
      expect(s.name).toBe("gcr.io/cloud-builders/docker");
      expect(s.args[0]).toBe("build");
      return {
        file: s.args.find((a) => a.startsWith("--file="))?.slice("--file=".length),
        tag: s.args.find((a) => a.startsWith("--tag="))?.slice("--tag=".length),
      };
    });
    expect(tagged.map((t) => t.file).sort()).toEqual(["Dockerfile.server", "Dockerfile.worker"]);
    expect(tagged.map((t) => t.tag).sort()).toEqual([...build.images].sort());
    for (const image of build.images) expect(image).toMatch(/^\$\{_REGION\}-docker\.pkg\.dev\/\$\{PROJECT_ID\}\//);
  });

  it("is submitted by deploy/README.md with the region and tag the manifests use", () => {
    expect(readme).toMatch(
      /gcloud builds submit --config deploy\/cloudbuild\.yaml\s*\\\s*\n\s*--substitutions "_REGION=\$REGION,_TAG=\$IMAGE_TAG"/,
    );
    expect(readme).toContain(`gcloud artifacts repositories create ${build.substitutions._REPOSITORY} `);
  });
});

describe("deploy/README.md against the manifests", () => {
  it("fills every ${VAR} placeholder of each manifest with its envsubst command", () => {
    for (const path of Object.values(manifests)) {
      const used = new Set([...readRepoFile(path).matchAll(/\$\{([A-Z_]+)\}/g)].map((m) => m[1]));
      const command = new RegExp(`envsubst '([^']+)'\\s*\\\\\\s*\\n\\s*< ${path.replace(/[.]/g, "\\.")} >`).exec(
        readme,
      );
      expect(command, `deploy/README.md runs envsubst on ${path}`).not.toBeNull();
      const listed = new Set([...(command?.[1] ?? "").matchAll(/\$\{([A-Z_]+)\}/g)].map((m) => m[1]));
      expect([...used].sort(), path).toEqual([...listed].sort());
      // The manifest's own header shows the same command.
      expect(readRepoFile(path)).toContain(`envsubst '${command?.[1]}'`);
      for (const name of listed) expect(readme, `step 0/1 exports ${name}`).toMatch(new RegExp(`export ${name}=`));
    }
  });

  it("creates every secret the manifests reference and grants both runtime accounts access to each", () => {
    const referenced = new Set(
      Object.keys(manifests).flatMap((k) =>
        envOf(read(k as ManifestKey)).flatMap((e) => e.valueFrom?.secretKeyRef?.name ?? []),
      ),
    );
    const created = new Set([...readme.matchAll(/gcloud secrets create (\S+)/g)].map((m) => m[1]));
    expect([...created].sort()).toEqual([...referenced].sort());
    const granted =
      /for secret in ([^;]+); do\s*\n\s*gcloud secrets add-iam-policy-binding "\$secret" --member="\$member" --role=roles\/secretmanager\.secretAccessor/.exec(
        readme,
      );
    expect(granted?.[1]?.trim().split(/\s+/).sort()).toEqual([...referenced].sort());
    expect(readme).toMatch(
      /for sa in airtable-mcp-server airtable-mcp-worker; do[\s\S]*--role=roles\/datastore\.user[\s\S]*done\s*\ndone/,
    );
  });

  it("creates the service accounts the manifests run as, and Memorystore with noeviction", () => {
    expect(readme).toMatch(
      /for sa in airtable-mcp-server airtable-mcp-worker airtable-mcp-build; do\s*\n\s*gcloud iam service-accounts create "\$sa"/,
    );
    expect(readme).toMatch(
      /gcloud redis instances create [^\n]*\\\n[^\n]*--redis-version=redis_7_\d[\s\S]*?--redis-config=maxmemory-policy=noeviction/,
    );
    expect(readme).toMatch(/gcloud firestore databases create --location="\$REGION" --type=firestore-native/);
    expect(readme).toContain("${PUBLIC_URL}/oauth/callback");
  });
});
