import { afterAll } from "vitest";
import { RedisKeyValueStore } from "../../../src/shared/kv/redis-key-value-store.ts";
import { createTestRedis, deleteKeys, uniquePrefix } from "../../helpers/redis.ts";
import { keyValueStoreContract } from "../../support/key-value-store.contract.ts";

const redis = createTestRedis();
const keyPrefix = uniquePrefix("kv");
afterAll(async () => {
  await deleteKeys(redis, keyPrefix);
  redis.disconnect();
});

keyValueStoreContract(
  "redis",
  () => new RedisKeyValueStore(redis),
  () => keyPrefix,
);
