# Redis: the tests start redis-servers of their own (free port, temporary folder, stopped
# afterwards); this only makes sure Debian's redis-server is installed.

REDIS_SERVER_STAMP := $(STAMP)/redis-server

$(REDIS_SERVER_STAMP): | $(STAMP)
	command -v redis-server >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server)
	touch $@

.PHONY: setup-redis
setup-redis: $(REDIS_SERVER_STAMP)

test-rust: $(REDIS_SERVER_STAMP)
