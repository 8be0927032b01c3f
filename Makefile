# The one command to test: make test. It starts PostgreSQL and Redis when
# they are down and runs every test with the race detector.
GO ?= go
BIN := bin/unionhub

.PHONY: test build lint services

test: services lint
	CI=true $(GO) test -race -count=1 -timeout 20m ./...

services:
	./scripts/services.sh

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

# The same static build as the Dockerfile's and the replica tests'.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -o $(BIN) ./cmd/unionhub
