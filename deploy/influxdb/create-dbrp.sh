#!/bin/bash
# Runs once, after the InfluxDB 2.x container's first-start setup. The platform reads history with
# InfluxQL on /query, which 2.x answers through a database/retention-policy (DBRP) mapping; recent
# 2.x releases add a virtual one per bucket, and this makes it explicit for every 2.x release.
set -euo pipefail
influx v1 dbrp create \
  --org "${DOCKER_INFLUXDB_INIT_ORG}" \
  --bucket-id "${DOCKER_INFLUXDB_INIT_BUCKET_ID}" \
  --db "${DOCKER_INFLUXDB_INIT_BUCKET}" \
  --rp autogen \
  --default
