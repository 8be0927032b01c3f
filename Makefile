# The one command to test: make test. It starts PostgreSQL and Redis when
# they are down and runs every test with the race detector.
GO ?= go
BIN := bin/unionhub

GOLANGCI_LINT_VERSION := v2.15.0
GOLANGCI_LINT := bin/golangci-lint-$(GOLANGCI_LINT_VERSION)

.PHONY: test build lint services

test: services lint
	CI=true $(GO) test -race -count=1 -timeout 20m ./...

services:
	./scripts/services.sh

lint: $(GOLANGCI_LINT)
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GOLANGCI_LINT) run ./...

# golangci-lint (staticcheck, the slog key check and the standard set, see
# .golangci.yml), built once from the module proxy at a pinned version.
$(GOLANGCI_LINT):
	mkdir -p bin
	GOBIN=$(CURDIR)/bin $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv bin/golangci-lint $@

# The same static build as the Dockerfile's and the replica tests'.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -o $(BIN) ./cmd/unionhub
