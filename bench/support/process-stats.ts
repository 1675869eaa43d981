import { readFile } from "node:fs/promises";
import { readdir } from "node:fs/promises";
import { join } from "node:path";

/** Linux reports process CPU time in clock ticks; 100 per second on every mainstream kernel (getconf CLK_TCK). */
const TICKS_PER_SECOND = 100;

/**
 * CPU time (user + system, ms) a process has used so far, from /proc/<pid>/stat (Linux only). Resolution is one
 * clock tick (10 ms): measure windows of many calls.
 */
export async function processCpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may contain spaces) start after the last ")"; utime and stime are the
  // 14th and 15th fields of the whole line, i.e. the 12th and 13th after it.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND) * 1000;
}

/** Resident set size in MB from /proc/<pid>/status (VmRSS). */
export async function processRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

export interface SelfTime {
  /** `function file:line` */
  frame: string;
  selfMs: number;
  /** Share of the busy (non-idle) samples. */
  share: number;
}

/** A named part of the request path: a sample counts for it when any frame on its stack matches. */
export interface CostGroup {
  label: string;
  match(frame: string): boolean;
}

export interface ProfileSummary {
  /** Non-idle time sampled, ms (GC and "(program)" included). */
  busyMs: number;
  /** The functions with the most self time, idle excluded. */
  top: SelfTime[];
  /** Each group's inclusive time (its frames and everything they called), biggest first. */
  groups: { label: string; ms: number; share: number }[];
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const where =
    url === ""
      ? ""
      : ` ${url.replace(/^.*\/node_modules\//, "").replace(/^file:\/\/.*?\/src\//, "src/")}:${lineNumber + 1}`;
  return `${functionName || "(anonymous)"}${where}`;
}

/**
 * Summarises every `.cpuprofile` in `dir` (V8's `--cpu-prof` output): the functions with the most self time and
 * the inclusive time of each group, over the non-idle samples. Time is samples × each profile's mean interval.
 */
export async function summariseProfiles(dir: string, limit: number, groups: CostGroup[]): Promise<ProfileSummary> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".cpuprofile"));
  const self = new Map<string, number>();
  const grouped = new Map<string, number>();
  let busyMs = 0;
  for (const file of files) {
    const profile = JSON.parse(await readFile(join(dir, file), "utf8")) as {
      nodes: ProfileNode[];
      startTime: number;
      endTime: number;
      samples: number[];
    };
    if (profile.samples.length === 0) continue;
    const intervalMs = (profile.endTime - profile.startTime) / 1000 / profile.samples.length;
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const hits = new Map<number, number>();
    for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
    for (const [id, count] of hits) {
      const node = nodes.get(id)!;
      if (node.callFrame.functionName === "(idle)") continue;
      const ms = count * intervalMs;
      busyMs += ms;
      const name = frameName(node);
      self.set(name, (self.get(name) ?? 0) + ms);
      const stack: string[] = [];
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at))
        stack.push(frameName(nodes.get(at)!));
      for (const group of groups) {
        if (stack.some((frame) => group.match(frame))) grouped.set(group.label, (grouped.get(group.label) ?? 0) + ms);
      }
    }
  }
  const share = (ms: number) => (busyMs > 0 ? ms / busyMs : 0);
  return {
    busyMs,
    top: [...self.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([frame, selfMs]) => ({ frame, selfMs, share: share(selfMs) })),
    groups: [...grouped.entries()].sort((a, b) => b[1] - a[1]).map(([label, ms]) => ({ label, ms, share: share(ms) })),
  };
}
