import os from "node:os";
import type { Redis } from "ioredis";

/** The facts a reader needs to compare numbers between machines. */
export interface MachineFacts {
  node: string;
  platform: string;
  cpuCount: number;
  cpuModel: string;
  memoryGiB: number;
  redisVersion: string;
  /** 1-minute load average when the run started: above the CPU count, other work competed with the benchmark. */
  loadAverage: number;
  date: string;
}

export async function machineFacts(redis: Redis): Promise<MachineFacts> {
  const info = await redis.info("server");
  return {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpuCount: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? "unknown",
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    redisVersion: /redis_version:(\S+)/.exec(info)?.[1] ?? "unknown",
    loadAverage: Math.round(os.loadavg()[0]! * 100) / 100,
    date: new Date().toISOString(),
  };
}
