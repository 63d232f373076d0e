"""The model registry: versions in ``model_versions``, promotions in ``model_promotions``.

Artifacts are stored in the database (``bytea``), not in a folder: a scoring job on any
machine that can reach the database can load the champion, backups of the database back up
the models, and a version row can never point at a file that was moved or deleted. Models are
a few hundred kB to a few MB, well within what PostgreSQL stores comfortably.

Loading a model never runs code taken from the database. Before anything is decoded:

1. the artifact's sha256 must match the registry's (catches corruption);
2. with a signing key configured (``MATCHER_MODEL_KEY`` / ``MATCHER_MODEL_KEY_FILE``, kept
   outside the database), its HMAC-SHA256 signature must be valid (catches tampering by
   anyone who can write ``model_versions`` but does not have the key);
3. its format must be one matcher writes for the algorithm: XGBoost's UBJSON or skops with
   only trusted types (:mod:`matcher.algorithms`). Pickle-based formats (``joblib``, written
   by matcher before revision 0004) are refused: unpickling runs whatever the bytes say.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import json
import logging
import platform
from dataclasses import dataclass, field

import sklearn
import skops
import xgboost
from sqlalchemy import Connection
from sqlalchemy.engine import Engine

from matcher.algorithms import ALGORITHMS, Algorithm
from matcher.db import sql
from matcher.errors import (
    ArtifactIntegrityError,
    ArtifactRefused,
    ChampionChanged,
    MatcherError,
    NoChampion,
)
from matcher.settings import get_settings

log = logging.getLogger(__name__)


def library_versions() -> dict[str, str]:
    return {"python": platform.python_version(), "xgboost": xgboost.__version__,
            "scikit-learn": sklearn.__version__, "skops": skops.__version__}


@dataclass
class LoadedModel:
    version_id: int
    algorithm: str
    model: Algorithm
    #: Feature distributions over its training pairs (:mod:`matcher.drift`); empty for
    #: versions registered before revision 0008.
    feature_profile: dict = field(default_factory=dict)


def register(conn: Connection, model: Algorithm, *, training_window: dict, row_counts: dict,
             metrics: dict, job_run_id: int | None = None, target: str = "success",
             feature_profile: dict | None = None) -> int:
    """Store ``model`` as a candidate version predicting ``target`` (``success``: the
    pairing succeeds; ``acceptance``: the mentor accepts the request) with the
    ``feature_profile`` of its training pairs, and return its id."""
    artifact = model.to_bytes()
    digest = hashlib.sha256(artifact).hexdigest()
    key = get_settings().model_key
    return conn.execute(sql("registry/insert.sql"), {
        "algorithm": model.name, "parameters": json.dumps(model.parameters),
        "features": model.features, "training_window": json.dumps(training_window, default=str),
        "row_counts": json.dumps(row_counts), "metrics": json.dumps(metrics),
        "library_versions": json.dumps(library_versions()),
        "artifact_format": model.artifact_format, "artifact": artifact,
        "artifact_sha256": digest, "job_run_id": job_run_id, "target": target,
        "feature_profile": json.dumps(feature_profile or {}),
        "artifact_signature": key and signature(key, model.name, model.artifact_format, digest,
                                                model.features),
    }).scalar_one()


def signature(key: bytes, algorithm: str, artifact_format: str, sha256: str,
              features: list[str]) -> str:
    """HMAC-SHA256 of what decides how an artifact is loaded and what it computes."""
    message = json.dumps([algorithm, artifact_format, sha256, list(features)]).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def load(conn: Connection, version_id: int) -> LoadedModel:
    """Load a version, refusing an artifact whose sha256 differs from the registry's."""
    row = conn.execute(sql("registry/artifact.sql"), {"id": version_id}).mappings().one_or_none()
    if row is None:
        raise _no_such_version(version_id)
    artifact = bytes(row["artifact"])
    digest = hashlib.sha256(artifact).hexdigest()
    if digest != row["artifact_sha256"]:
        raise ArtifactIntegrityError(
            f"model version {version_id}: artifact sha256 {digest[:12]}... does not match the "
            f"registry's {row['artifact_sha256'][:12]}...; refusing to load it")
    key = get_settings().model_key
    if key is not None:
        expected = signature(key, row["algorithm"], row["artifact_format"], digest,
                             list(row["features"]))
        if not hmac.compare_digest(row["artifact_signature"] or "", expected):
            raise ArtifactRefused(
                f"model version {version_id}: artifact signature is "
                f"{'missing' if not row['artifact_signature'] else 'not valid'} for the key in "
                "MATCHER_MODEL_KEY; refusing to load it (a version registered without the key, "
                "or written by someone without it: retrain, or `matcher models promote` a "
                "signed version)")
    cls = ALGORITHMS.get(row["algorithm"])
    if cls is None or cls.artifact_format != row["artifact_format"]:
        unsafe = row["artifact_format"] in ("joblib", "pickle")
        raise ArtifactRefused(
            f"model version {version_id}: refusing to load a {row['algorithm']!r} artifact "
            f"in format {row['artifact_format']!r}"
            + ("; pickle-based formats can run code when loaded, so matcher never loads them "
               "(retrain to store the model as data: matcher train)" if unsafe else ""))
    try:
        model = cls.from_bytes(artifact, list(row["features"]), row["parameters"])
    except ArtifactRefused as exc:
        raise ArtifactRefused(f"model version {version_id}: {exc}") from None
    return LoadedModel(version_id, row["algorithm"], model, row["feature_profile"] or {})


def champion_id(conn: Connection, target: str = "success") -> int | None:
    return conn.execute(sql("registry/champion.sql"), {"target": target}).scalar_one_or_none()


def load_champion(conn: Connection, target: str = "success") -> LoadedModel:
    version = champion_id(conn, target)
    if version is None:
        what = "champion model" if target == "success" else f"{target} champion model"
        raise NoChampion(f"there is no {what} yet; run `matcher train"
                         f"{'' if target == 'success' else ' --target ' + target}` first")
    return load(conn, version)


_ANY = object()


def promote(conn: Connection, version_id: int, reason: str, *, forced: bool = False,
            by: str | None = None, expected_champion: int | None | object = _ANY) -> int | None:
    """Make ``version_id`` the champion (retiring the current one) and log it; returns the
    previous champion's id. Call inside a transaction.

    With ``expected_champion`` (compare and swap): promote only if the champion is still that
    version (``None``: still no champion), else :class:`ChampionChanged` and nothing changes.
    A challenger judged against one champion never replaces another."""
    conn.execute(sql("registry/lock.sql"))
    row = conn.execute(sql("registry/status.sql"), {"id": version_id}).one_or_none()
    if row is None:
        raise _no_such_version(version_id)
    if expected_champion is not _ANY:
        current = champion_id(conn, row.target)
        if current != expected_champion:
            raise ChampionChanged(
                f"the champion changed from {_name(expected_champion)} to {_name(current)} "
                f"while v{version_id} was being compared with it; v{version_id} was not "
                "promoted (run again to compare it with the new champion)")
    if row.status == "champion":
        raise MatcherError(f"model version {version_id} is already the champion")
    previous = conn.execute(sql("registry/promote.sql"), {
        "id": version_id, "promoted_by": by or who(), "reason": reason, "forced": forced,
    }).scalar_one()
    log.info("model version %d promoted to champion (previous: %s, forced: %s): %s",
             version_id, previous, forced, reason)
    return previous


def _name(version_id: int | None) -> str:
    return "none" if version_id is None else f"v{version_id}"


def rollback(conn: Connection, reason: str, by: str | None = None,
             target: str = "success") -> int:
    """Restore the ``target`` champion that the current one replaced; returns its id."""
    conn.execute(sql("registry/lock.sql"))
    previous = conn.execute(sql("registry/previous_champion.sql"),
                            {"target": target}).scalar_one_or_none()
    if previous is None:
        raise MatcherError("nothing to roll back to: the current champion replaced no other "
                           "(see: matcher models history)")
    promote(conn, previous, f"rollback: {reason}", by=by)
    return previous


def version_info(conn: Connection, version_id: int) -> dict:
    """Everything the registry knows about one version, without its artifact."""
    row = conn.execute(sql("registry/show.sql"), {"id": version_id}).mappings().one_or_none()
    if row is None:
        raise _no_such_version(version_id)
    return dict(row)


def last_decision_time(conn: Connection):
    """When ``matcher retrain`` last decided (promoted, kept or dry run), if ever."""
    return conn.execute(sql("registry/last_decision.sql")).scalar_one_or_none()


def log_decision(conn: Connection, *, challenger_id: int | None, champion_id: int | None,
                 outcome: str, forced: bool, reason: str, comparison: dict,
                 feedback_checks: list[dict], job_run_id: int | None) -> int:
    """One ``model_decisions`` row, in the caller's transaction; returns its id."""
    return conn.execute(sql("registry/decide.sql"), {
        "challenger_id": challenger_id, "champion_id": champion_id, "outcome": outcome,
        "forced": forced, "reason": reason, "comparison": json.dumps(comparison),
        "feedback_checks": json.dumps(feedback_checks), "decided_by": who(),
        "job_run_id": job_run_id}).scalar_one()


def _rows(engine: Engine, query: str) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sql(query)).mappings()]


def versions(engine: Engine) -> list[dict]:
    return _rows(engine, "registry/list.sql")


def promotions(engine: Engine) -> list[dict]:
    return _rows(engine, "registry/promotions.sql")


def decisions(engine: Engine) -> list[dict]:
    """Every ``matcher retrain`` decision, newest first."""
    return _rows(engine, "registry/decisions.sql")


def show(engine: Engine, version_id: int) -> dict:
    with engine.connect() as conn:
        return version_info(conn, version_id)


def _no_such_version(version_id: int) -> MatcherError:
    return MatcherError(f"no model version {version_id} (see: matcher models list)")


def who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
