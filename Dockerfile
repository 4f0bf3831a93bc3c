# syntax=docker/dockerfile:1
# Proxima: one image, every subcommand (`serve`, `probe`, `demo`):
#   docker build -t proxima:0.1.0 .
#   docker run --rm -p 18000:18000 -p 9090:9090 proxima:0.1.0 serve --policy nearest \
#     --xds-listen 0.0.0.0:18000 --admin-listen 0.0.0.0:9090 --insecure   # plaintext: a local try only
#   (listeners bind 127.0.0.1 by default; off loopback give --tls-cert/--tls-key, see docs/security.md)
# Reproducible: the base is pinned by tag and digest (re-check the digest with
# `docker buildx imagetools inspect node:20.20.2-bookworm-slim` when bumping the tag), dependencies
# come from package-lock.json through `npm ci`, and the build context is trimmed by .dockerignore.

ARG NODE_IMAGE=node:20.20.2-bookworm-slim@sha256:2cf067cfed83d5ea958367df9f966191a942351a2df77d6f0193e162b5febfc0

# ---- build: full dependencies, compile TypeScript --------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

# ---- deps: production dependencies only, from the same lockfile -------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- runtime ----------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="proxima" \
      org.opencontainers.image.description="Latency-aware routing for Knative on edge clusters (xDS, ext_proc, LRS, probe agent, scheduler extender)" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY package.json ./
COPY protos ./protos
COPY examples ./examples
COPY envoy ./envoy
# 65532 is the conventional "nonroot" uid/gid (distroless); no shell login, no home to write to.
USER 65532:65532
# xDS/LRS/probe reports (gRPC), ext_proc (gRPC), scheduler extender (HTTP), admin HTTP.
EXPOSE 18000 18001 8888 9090
# No curl in the slim image: node's fetch. Override the URL when the admin port is not 9090
# (e.g. `proxima probe --admin-listen`).
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.HEALTHCHECK_URL || 'http://127.0.0.1:9090/healthz', { signal: AbortSignal.timeout(2000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/dist/src/cli/main.js"]
CMD ["serve"]
