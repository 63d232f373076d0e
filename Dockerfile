FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY matcher ./matcher
COPY alembic ./alembic
COPY sql ./sql
COPY scripts ./scripts
RUN pip install --no-cache-dir -e .
ENTRYPOINT ["matcher"]
