# The civic311 application image (target app): daemon, web and worker (docker-compose.yml runs
# one each); target frontdoor adds Kamailio for the two-node profile's SIP front door.
# The browser phone's SIP library, from the npm registry at the pinned lockfile versions.
FROM node:20-bookworm-slim AS browser-deps
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim-bookworm AS app
RUN apt-get update \
 && apt-get install -y --no-install-recommends espeak-ng sox \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY center center
COPY acd acd
COPY ivr ivr
COPY crm_bridge crm_bridge
COPY recordings recordings
COPY workforce workforce
COPY asterisk_conf asterisk_conf
COPY foundation foundation
COPY telephony telephony
COPY --from=browser-deps /build/node_modules/sip.js/lib acd/static/vendor/sip.js
RUN pip install --no-cache-dir . \
 && useradd --system --home /var/lib/civic311 civic311 \
 && mkdir -p /var/lib/civic311 && chown civic311 /var/lib/civic311
USER civic311
ENV CIVIC311_DATA_DIR=/var/lib/civic311
CMD ["civic311", "--help"]

# The SIP front door (`civic311 frontdoor run`): the same application with Debian's Kamailio
# and its TLS module (the phones' TLS listener, once sip_tls_cert_file/sip_tls_key_file are set).
FROM app AS frontdoor
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends kamailio kamailio-websocket-modules \
    kamailio-tls-modules \
 && rm -rf /var/lib/apt/lists/*
USER civic311
CMD ["civic311", "frontdoor", "run", "--run-dir", "/var/lib/civic311/frontdoor"]
