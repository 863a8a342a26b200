# syntax=docker/dockerfile:1
# Tessera's container image (docs/operations/deployment.md). Two stages: the build stage makes a
# virtualenv with uv from uv.lock (no dev dependencies, the project installed as a wheel, not
# editable); the runtime stage is python:3.11-slim with that virtualenv, run by a user without
# privileges. Build: docker build -t tessera .

FROM python:3.11-slim AS build
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/tessera
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /src
# dependencies first (a layer that changes only with the lock file)
COPY pyproject.toml uv.lock README.md ./
COPY clients/python clients/python
RUN uv sync --frozen --no-dev --no-install-project
COPY src src
RUN uv sync --frozen --no-dev --no-editable

FROM python:3.11-slim AS runtime
ENV PATH=/opt/tessera/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=tessera.settings \
    TESSERA_ENV=production \
    TESSERA_VAR_DIR=/var/lib/tessera
RUN groupadd --system --gid 10001 tessera \
    && useradd --system --uid 10001 --gid tessera --home-dir /var/lib/tessera --no-create-home tessera \
    && install -d -o tessera -g tessera -m 0750 /var/lib/tessera
COPY --from=build /opt/tessera /opt/tessera
COPY deploy/healthcheck.py /opt/tessera/healthcheck.py
# the static assets (admin, Swagger UI, ReDoc, pages), hashed and compressed at build time;
# `tessera serve` finds them unchanged at start
RUN TESSERA_ENV=development TESSERA_SECRET_KEY=build-only-not-a-secret-0123456789abcdefghijklmnop \
    tessera collectstatic --no-input -v 0 \
    && chown -R tessera:tessera /var/lib/tessera
USER tessera:tessera
WORKDIR /var/lib/tessera
EXPOSE 8000
# liveness: GET /healthz answers (readiness, with the database and Redis, is GET /readyz)
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "/opt/tessera/healthcheck.py"]
ENTRYPOINT ["tessera"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
