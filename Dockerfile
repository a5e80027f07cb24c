# Slim, non-root image that runs `wif` (default: the scheduler).

# The DSFR of the public pages, from npm (package.json): only its files the pages use reach the image.
FROM node:22-slim AS dsfr
WORKDIR /assets
COPY package.json package-lock.json .dsfr.yml ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN useradd --create-home --uid 10001 wif
WORKDIR /app

COPY pyproject.toml README.md alembic.ini ./
COPY core core
COPY connector connector
COPY mappings mappings
COPY mail mail
COPY notifications notifications
COPY stats stats
COPY jobs jobs
COPY sandbox sandbox
COPY validity validity
COPY --from=dsfr /assets/node_modules/@gouvfr/dsfr/dist/dsfr.min.css /app/dsfr/dsfr.min.css
COPY --from=dsfr /assets/node_modules/@gouvfr/dsfr/dist/fonts /app/dsfr/fonts
COPY --from=dsfr /assets/node_modules/@gouvfr/dsfr/dist/icons /app/dsfr/icons
COPY --from=dsfr /assets/node_modules/@gouvfr/dsfr/dist/favicon /app/dsfr/favicon
ENV WIF_DSFR_DIR=/app/dsfr
RUN pip install '.[postgres]' && mkdir -p /app/var && chown wif:wif /app/var

USER wif
ENV DATABASE_URL=sqlite:////app/var/wif.db
ENTRYPOINT ["wif"]
CMD ["schedule"]
