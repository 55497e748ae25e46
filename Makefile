# rsttrace: `sudo make run` traces, `sudo make test` builds and tests everything.
PREFIX  ?= /usr/local
ARGS    ?=
NODE    ?= node
NPM     ?= npm

ADDON     := build/Release/rsttrace.node
CLI       := dist/cli.js
SCENARIOS := build/scenarios/rstscen
# Debian's Prometheus, unpacked (not installed: no service starts) for the metrics test
PROMETHEUS := build/tools/prometheus/usr/bin/prometheus
NATIVE_SRC := CMakeLists.txt $(wildcard native/*.cc native/*.h bpf/*.c bpf/*.h)
TS_SRC     := tsconfig.json $(shell find src -name '*.ts' 2>/dev/null)

.PHONY: all deps build test unit run install uninstall clean bench

all: build

# System packages (apt) and node_modules; only what is missing.
deps: node_modules/.package-lock.json
	@true

.deps-system.stamp: scripts/install-deps.sh
	@bash scripts/install-deps.sh
	@touch $@

node_modules/.package-lock.json: package.json package-lock.json | .deps-system.stamp
	$(NPM) ci --no-audit --no-fund

build: $(ADDON) $(CLI) $(SCENARIOS)

$(ADDON): $(NATIVE_SRC) | node_modules/.package-lock.json
	npx cmake-js build --directory . --out build --log-level warn

$(CLI): $(TS_SRC) | node_modules/.package-lock.json
	npx tsc -p tsconfig.json
	chmod +x $(CLI)

$(SCENARIOS): test/scenarios/rstscen.c | .deps-system.stamp
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -o $@ $<

# Debian's Prometheus for the metrics test. Not fatal: without it that test
# skips its Prometheus-server check and says why.
$(PROMETHEUS): | .deps-system.stamp
	@mkdir -p build/tools
	@cd build/tools && rm -f prometheus_*.deb && \
	  { apt-get download prometheus >/dev/null 2>&1 || { apt-get update -qq && apt-get download prometheus >/dev/null 2>&1; }; } && \
	  dpkg -x prometheus_*.deb prometheus && rm -f prometheus_*.deb || \
	  echo "make: Debian's prometheus could not be downloaded; the metrics test will skip its server check"

# Unit and end-to-end tests; end-to-end ones need root and are skipped, with
# the reason printed, without it.
test: build $(PROMETHEUS)
	npx tsc -p test/tsconfig.json
	npx vitest run

unit: $(CLI)
	npx vitest run test/unit

run: build
	./$(CLI) $(ARGS)

install: build
	install -d $(DESTDIR)$(PREFIX)/lib/rsttrace/dist $(DESTDIR)$(PREFIX)/lib/rsttrace/build/Release $(DESTDIR)$(PREFIX)/bin
	cp -r dist/. $(DESTDIR)$(PREFIX)/lib/rsttrace/dist/
	cp package.json package-lock.json $(DESTDIR)$(PREFIX)/lib/rsttrace/
	cp $(ADDON) $(DESTDIR)$(PREFIX)/lib/rsttrace/build/Release/
	cd $(DESTDIR)$(PREFIX)/lib/rsttrace && $(NPM) ci --omit=dev --ignore-scripts --no-audit --no-fund
	ln -sf ../lib/rsttrace/dist/cli.js $(DESTDIR)$(PREFIX)/bin/rsttrace
	@echo "installed: $(PREFIX)/bin/rsttrace"

uninstall:
	rm -rf $(DESTDIR)$(PREFIX)/lib/rsttrace $(DESTDIR)$(PREFIX)/bin/rsttrace

clean:
	rm -rf build dist .deps-system.stamp

# Benchmarks, run by hand (not by CI): writes bench/RESULTS.md. Uses the
# built dist/cli.js; RSTTRACE="node /path/to/cli.js" measures another build.
bench: build
	@mkdir -p bench/out
	$(CC) -O2 -Wall -Wextra -o bench/out/rststorm bench/rststorm.c
	$(CC) -O2 -Wall -Wextra -o bench/out/pipebench bench/pipebench.c
	$(NODE) bench/bench.mjs
