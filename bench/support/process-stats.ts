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
  /** Share of all samples, idle included. */
  share: number;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/**
 * The functions with the most self time across every `.cpuprofile` in `dir` (V8's `--cpu-prof` output), idle and
 * program/GC pseudo-frames included so the shares add up. Self time is samples × the mean sampling interval.
 */
export async function topSelfTimes(dir: string, limit: number): Promise<{ top: SelfTime[]; totalMs: number }> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".cpuprofile"));
  const byFrame = new Map<string, number>();
  let totalMs = 0;
  for (const file of files) {
    const profile = JSON.parse(await readFile(join(dir, file), "utf8")) as {
      nodes: ProfileNode[];
      startTime: number;
      endTime: number;
      samples: number[];
    };
    const samples = profile.samples.length;
    if (samples === 0) continue;
    const intervalMs = (profile.endTime - profile.startTime) / 1000 / samples;
    totalMs += (profile.endTime - profile.startTime) / 1000;
    for (const node of profile.nodes) {
      if (!node.hitCount) continue;
      const { functionName, url, lineNumber } = node.callFrame;
      const where =
        url === ""
          ? ""
          : ` ${url.replace(/^.*\/node_modules\//, "").replace(/^file:\/\/.*\/src\//, "src/")}:${lineNumber + 1}`;
      const frame = `${functionName || "(anonymous)"}${where}`;
      byFrame.set(frame, (byFrame.get(frame) ?? 0) + node.hitCount * intervalMs);
    }
  }
  const top = [...byFrame.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([frame, selfMs]) => ({ frame, selfMs, share: totalMs > 0 ? selfMs / totalMs : 0 }));
  return { top, totalMs };
}
