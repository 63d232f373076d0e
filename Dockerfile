FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml setup.py MANIFEST.in README.md ./
COPY matcher ./matcher
COPY alembic ./alembic
COPY sql ./sql
# A regular (non-editable) install: the wheel carries sql/ and alembic/ (setup.py).
RUN pip install --no-cache-dir . && rm -rf /app/matcher /app/sql /app/alembic
WORKDIR /srv
ENTRYPOINT ["matcher"]
