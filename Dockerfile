# syntax=docker/dockerfile:1
# studypath's production image, in three stages (the guide's week 8):
#   web     — Node builds the web app (web/) into studypath/static/
#   wheels  — Python builds the studypath wheel and the wheels of its dependencies
#   runtime — a slim Python with only those wheels installed: no compilers, no source tree
# One image, three roles: `studypath server` (the default), `studypath worker`, and
# `studypath migrate up` (a one-shot job that runs before new servers start).
# tests/deploy/test_dockerfile.py checks this file against the code.

ARG PYTHON_VERSION=3.11
ARG NODE_VERSION=22

# --- 1 · web: the browser app, built once, served by the API process ---------------------
FROM node:${NODE_VERSION}-slim AS web
WORKDIR /src
# The lock file first: the `npm ci` layer is rebuilt only when dependencies (or the API's
# OpenAPI description, from which `npm ci` generates src/api/schema.d.ts) change.
COPY web/package.json web/package-lock.json web/openapi.json web/
RUN cd web && npm ci
COPY web/ web/
# The web app's build writes into ../studypath/static/ (the page the API serves at /).
RUN mkdir -p studypath/static && cd web && npm run build

# --- 2 · wheels: the package and every dependency as wheels ------------------------------
FROM python:${PYTHON_VERSION}-slim AS wheels
WORKDIR /src
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml setup.py MANIFEST.in README.md ./
COPY studypath/ studypath/
COPY notebooks/ notebooks/
COPY labs/ labs/
# The built web app replaces the placeholder page.
COPY --from=web /src/studypath/static/ studypath/static/
RUN pip wheel --wheel-dir /wheels .

# --- 3 · runtime: what runs in production -------------------------------------------------
FROM python:${PYTHON_VERSION}-slim AS runtime
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# Only the wheels: `--no-index` proves nothing is compiled or fetched here.
RUN --mount=type=bind,from=wheels,source=/wheels,target=/wheels \
    pip install --no-index --find-links /wheels studypath \
    && groupadd --system --gid 10001 studypath \
    && useradd --system --uid 10001 --gid studypath --home-dir /var/lib/studypath \
       --create-home --shell /usr/sbin/nologin studypath
# Listen on every interface of the container; logs as JSON lines on stdout for the shipper.
# The database is always external in production: STUDYPATH_DATABASE_URL comes from the
# environment (compose's .env, a Kubernetes Secret), never from the image.
ENV STUDYPATH_HOST=0.0.0.0 \
    STUDYPATH_PORT=3000 \
    STUDYPATH_DATA_DIR=/var/lib/studypath \
    STUDYPATH_LOG_JSON=true
USER 10001:10001
WORKDIR /var/lib/studypath
EXPOSE 3000
# Readiness, as a load balancer would ask: exit 0 when /api/v1/health/ready answers 200.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["studypath", "health-check", "--timeout", "4"]
# SIGTERM stops accepting connections and finishes the requests in flight.
STOPSIGNAL SIGTERM
ENTRYPOINT ["studypath"]
CMD ["server"]
