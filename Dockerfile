# Slim, non-root image that runs `wif` (default: the scheduler).
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
RUN pip install '.[postgres]' && mkdir -p /app/var && chown wif:wif /app/var

USER wif
ENV DATABASE_URL=sqlite:////app/var/wif.db
ENTRYPOINT ["wif"]
CMD ["schedule"]
