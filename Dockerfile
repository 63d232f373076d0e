FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml setup.py MANIFEST.in README.md ./
COPY matcher ./matcher
COPY alembic ./alembic
COPY sql ./sql
# A regular (non-editable) install: the wheel carries sql/ and alembic/ (setup.py).
RUN pip install --no-cache-dir . && rm -rf /app/matcher /app/sql /app/alembic
# Compile the candidate prefilter's loops into numba's cache beside the installed package,
# so that no container compiles them again.
RUN python -m matcher.best_mentors
WORKDIR /srv
ENTRYPOINT ["matcher"]
