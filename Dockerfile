# Multi-stage build: a static binary (no cgo: SQLite is pure Go) on a
# distroless base, running as a non-root user with /data as its volume.
# The build command is the same as `make build` and the one the replica
# tests build and run (cmd/unionhub/replicas_test.go).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/unionhub ./cmd/unionhub \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/unionhub /usr/local/bin/unionhub
COPY --from=build --chown=65532:65532 /out/data /data
COPY examples /usr/share/unionhub/examples
ENV UNIONHUB_DATA_DIR=/data \
    UNIONHUB_HTTP_ADDR=:8080 \
    UNIONHUB_ADMIN_ADDR=:9090
VOLUME ["/data"]
# CLI commands run in the container (invite QR codes) write here.
WORKDIR /data
USER 65532:65532
EXPOSE 8080 9090
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s CMD ["/usr/local/bin/unionhub", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/unionhub"]
CMD ["serve"]
