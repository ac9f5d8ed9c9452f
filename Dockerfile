# The image deploy/ runs (ghcr.io/gantry-dev/gantry): every service's bundle in one image; each
# Deployment picks its service with `node dist/services/<name>/main.js` (workdir /app).
#   docker build -t ghcr.io/gantry-dev/gantry:0.1.0 .
# No Docker engine runs on the development machines: test/deploy/image.test.ts assembles the
# runtime stage's files (the COPY --from=build lines below) in a folder and runs a service from it.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY scripts scripts
COPY protos protos
COPY libs libs
COPY services services
# postinstall generates the Envoy proto types and bundles every service into dist/.
RUN npm ci && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/protos/envoy-protos.json ./protos/envoy-protos.json
COPY --from=build /app/dist ./dist
COPY --from=build /app/node_modules ./node_modules
# The uid the manifests' securityContext runs as (runAsNonRoot); nothing is written at run time.
USER 65532:65532
CMD ["node", "dist/services/cli/main.js"]
