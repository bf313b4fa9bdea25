# syntax=docker/dockerfile:1
FROM node:22-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles its native addon when no prebuilt binary can be fetched.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY broker ./broker
COPY contracts ./contracts
COPY devices ./devices
COPY services ./services
COPY simulators ./simulators
COPY web ./web
RUN npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim
ENV NODE_ENV=production DATA_DIR=/data HTTP_PORT=3000 MQTT_PORT=1883
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The speech synthesizer runs as a program of its own: plain JavaScript beside the compiled code.
COPY --from=build /app/services/tts/espeak-worker.mjs ./dist/services/tts/espeak-worker.mjs
# The national list of administrative units, read beside the compiled registry, with its licence.
COPY --from=build /app/services/registry/administrative-units.json.gz /app/services/registry/administrative-units.LICENSE ./dist/services/registry/
COPY package.json ./
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000 1883
HEALTHCHECK --interval=30s --timeout=5s CMD node -e "fetch('http://127.0.0.1:'+process.env.HTTP_PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/bin/main.js"]
