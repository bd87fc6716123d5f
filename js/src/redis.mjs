import mod from './redis.cjs';

export const { redisStore, isRedisStore } = mod;
export default mod.redisStore;
