# syntax=docker/dockerfile:1
#
# The gatehouse binary in an otherwise empty image: a static build
# (CGO_ENABLED=0; SQLite is the pure-Go modernc.org/sqlite), CA
# certificates, and a /data volume for the SQLite database and the
# generated secret key. It runs as an unprivileged user (65532).
#
#   docker build -t gatehouse .
#   docker run -p 127.0.0.1:8080:8080 -v gatehouse-data:/data \
#     -e GATEHOUSE_ISSUER=http://127.0.0.1:8080 \
#     -e GATEHOUSE_ADMIN_USER=admin -e GATEHOUSE_ADMIN_PASSWORD=change-me-now \
#     gatehouse
#
# Examples with PostgreSQL, Redis and two replicas: deploy/.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/gatehouse-auth/gatehouse/internal/cli.Version=${VERSION}" \
      -o /out/gatehouse ./cmd/gatehouse \
 && mkdir -p /out/data /out/tmp \
 && chmod 0700 /out/data \
 && chmod 1777 /out/tmp

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/gatehouse /usr/local/bin/gatehouse
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build /out/tmp /tmp
USER 65532:65532
ENV GATEHOUSE_ADDR=0.0.0.0:8080 \
    GATEHOUSE_DATA_DIR=/data \
    GATEHOUSE_CONFIG_DIR=/data/cli \
    GATEHOUSE_AUTH_STORAGE=file
VOLUME ["/data"]
EXPOSE 8080
# No shell or HTTP client in the image: the binary asks its own /healthz
# (under the issuer's path), on the loopback address.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["/usr/local/bin/gatehouse", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/gatehouse"]
CMD ["server"]
