# Redis: the tests start redis-servers of their own (free port, temporary folder, stopped
# afterwards); this only makes sure Debian's redis-server is installed.

REDIS_SERVER_STAMP := $(STAMP)/redis-server

$(REDIS_SERVER_STAMP): | $(STAMP)
	command -v redis-server >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server)
	touch $@

.PHONY: setup-redis
setup-redis: $(REDIS_SERVER_STAMP)

test-rust: $(REDIS_SERVER_STAMP)

# Redis against the peers, same run (printed, not asserted): express-session + connect-redis
# versus tenure/express + tenure/redis, starsessions' RedisStore versus tenure.asgi + tenure.redis.
.PHONY: bench-redis
bench-redis: bench-redis-js bench-redis-python
