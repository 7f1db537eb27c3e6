# syntax=docker/dockerfile:1
# The operator image: Node 24 LTS running the operator bundled into one ES module (hack/build-operator.ts, esbuild:
# cmd/operator/main.ts with its production dependencies), as a non-root user. One module instead of ~1,500 TypeScript
# and package modules halves the CPU of a start and lowers the memory floor (docs/adr/0008-bundled-entry-point.md).
# Not built in CI (no Docker engine there); test/integration/deploy.test.ts checks this file's shape.
# Build: docker build -t kube-endpoints-operator:0.1.0 .
# Without Docker, `npm run image` (hack/image/build-image.ts) builds the same image from this file's final stage (its
# COPY lines, USER, WORKDIR, ENV, EXPOSE, ENTRYPOINT, the compile-cache RUN), bundling with the same script; CI builds
# and runs that one (test/integration/image.test.ts).

# Same Node as the `node` devDependency the tests run on (package.json); bump both together.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# Development dependencies too (esbuild). --ignore-scripts: esbuild finds its binary in its platform package; the
# `node` devDependency's download is not needed, the base image is the runtime.
RUN npm ci --ignore-scripts
COPY api ./api
COPY cmd ./cmd
COPY controllers ./controllers
COPY hack/build-operator.ts ./hack/build-operator.ts
RUN node hack/build-operator.ts

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
# V8 code cache of the bundle, written once at build time (the RUN below) and only read at run time (docs/performance.md,
# start-up). A read-only root filesystem is fine: Node skips writing when it cannot.
ENV NODE_COMPILE_CACHE=/app/.node-compile-cache
WORKDIR /app
COPY --from=build /app/dist/operator ./dist/operator
# The embedded playground (cmd/operator/playground/, controllers/playground/, cmd/playground/ and the hack/ code they
# use) stays out (.dockerignore, and hack/build-operator.ts leaves its lazy import out of the bundle): it never starts
# in a Pod (in-cluster config wins) and needs binaries this image lacks; asked for it (no kubeconfig, not in a Pod),
# main.ts says so in one line.
# `--help` compiles the whole bundle and fills the cache. Node keeps one cache directory per UID
# (<version>-<arch>-<flags hash>-<uid>): written as root, the cache would never be read by UID 1000. So it is written
# as 1000 (setpriv, util-linux), then handed back to root, readable by all (Node writes its entries owner-only).
RUN mkdir .node-compile-cache && chown 1000:1000 .node-compile-cache \
  && setpriv --reuid=1000 --regid=1000 --clear-groups node dist/operator/main.mjs --help > /dev/null \
  && chown -R 0:0 .node-compile-cache && chmod -R a+rX .node-compile-cache
# A numeric non-root user (the base image's `node`), so the kubelet can verify runAsNonRoot. Nothing is written at run
# time: the root filesystem can be read-only.
USER 1000:1000
EXPOSE 8080 8081
# Exec form: Node is PID 1 and receives SIGTERM itself; main.ts handles it (graceful drain, Lease release; a second
# signal exits at once). The operator starts no child processes in a Pod, so there are no zombies to reap.
ENTRYPOINT ["node", "dist/operator/main.mjs"]
