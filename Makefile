# make build  — the binary at bin/cpms (front-end assets are embedded from viewer/)
# make run    — build and serve the demo network on the embedded default
# make test   — vet and test everything; with CI=true the PostgreSQL, S3 and browser tests must run
GO      ?= go
DATA    ?= ./cpms-data
ADDR    ?= 127.0.0.1:8080
# Packages the race detector runs on: the concurrent core and the image store. The rest runs once,
# without it.
RACE_PKGS = ./cpms/... ./internal/... ./dicomweb/...
MODULE    = github.com/ern-cpms/cpms

.PHONY: build run test vet test-race test-all node_modules clean

build:
	$(GO) build -trimpath -o bin/cpms ./cmd/cpms

run: build
	./bin/cpms serve --demo --addr $(ADDR) --data $(DATA)

node_modules: package-lock.json
	@if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then npm ci --no-audit --no-fund --loglevel=error; fi

vet:
	$(GO) vet ./...

test: vet node_modules test-race test-all

test-race:
	$(GO) test -race -count=1 $(RACE_PKGS)

test-all:
	$(GO) test -count=1 $$($(GO) list ./... | grep -v -e '^$(MODULE)/cpms\(/\|$$\)' -e '^$(MODULE)/internal/' -e '^$(MODULE)/dicomweb\(/\|$$\)')

clean:
	rm -rf bin
