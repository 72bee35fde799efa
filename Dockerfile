# authgate in a container: build with Rust's image, run on Debian slim as a non-root user.
#
#   docker build -t authgate .
#   docker run -d --name authgate -p 127.0.0.1:8080:8080 -v authgate-data:/data \
#     -e AUTHGATE_PUBLIC_URL=https://auth.example.com -e AUTHGATE_TRUSTED_PROXIES=172.17.0.1 \
#     authgate
#
# README.md ("Run it", "In a container") explains those settings. With podman, build with
# `--format docker`: the OCI format drops HEALTHCHECK.

# --- build ------------------------------------------------------------------------------
# Same Debian release as the runtime image, so the binary finds the glibc it was linked with.
FROM rust:1-bookworm AS builder
WORKDIR /src
COPY . .
# --locked: build exactly the dependency versions in Cargo.lock.
RUN cargo build --release --locked -p authgate

# --- run --------------------------------------------------------------------------------
FROM debian:bookworm-slim

# ca-certificates: harmless for authgate, which carries its own TLS roots, and needed by most
# tools one adds. curl: the image's health check (authgate has no probe command of its own).
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*

# A fixed uid, so that files on a bind-mounted /data can be given to it on the host
# (chown 10001:10001).
RUN groupadd --gid 10001 authgate \
    && useradd --uid 10001 --gid 10001 --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin authgate \
    && mkdir -p /data \
    && chown authgate:authgate /data \
    && chmod 0700 /data

COPY --from=builder /src/target/release/authgate /usr/local/bin/authgate

# The SQLite database and secret.key live in /data: keep it on a volume and back up both
# (README.md, "Backups"). Listen on every interface of the container; the host decides what
# is published. AUTHGATE_PUBLIC_URL has no sensible default here (http://0.0.0.0:8080):
# set it at `docker run`.
ENV AUTHGATE_DATA_DIR=/data \
    AUTHGATE_LISTEN=0.0.0.0:8080
VOLUME /data
WORKDIR /data
USER authgate
EXPOSE 8080

# /healthz answers while the process serves requests (/readyz also asks the database).
# The port follows AUTHGATE_LISTEN if it is changed at `docker run`.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD curl -fsS -o /dev/null "http://127.0.0.1:${AUTHGATE_LISTEN##*:}/healthz" || exit 1

ENTRYPOINT ["/usr/local/bin/authgate"]
CMD ["serve"]
