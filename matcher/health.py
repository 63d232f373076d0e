"""What a batch's figures warn about: features that drifted from the champion's training
time (:mod:`matcher.drift`), too many mentees short of K, pins that could not be applied.
The nightly run logs these lines; the batch report (``matcher report batch``) leads with
them."""

from __future__ import annotations

from matcher.drift import WARN_PSI

#: Share of active mentees with fewer than K recommendations above which a batch warns.
SHORT_OF_K_WARNING = 0.05


def warnings(counts: dict, k: int) -> list[str]:
    """The warning lines of a batch's ``counts`` (as recorded on the batch)."""
    out = [f"feature {feature} drifted from the champion's training data (PSI {value:.2f} > "
           f"{WARN_PSI}); consider retraining"
           for feature, value in sorted((counts.get("drift") or {}).items(),
                                        key=lambda item: -item[1]) if value > WARN_PSI]
    short, mentees = counts.get("mentees_short_of_k", 0), counts.get("mentees", 0)
    if mentees and short / mentees > SHORT_OF_K_WARNING:
        out.append(f"{short:,} of {mentees:,} mentees ({short / mentees:.0%}) got fewer than "
                   f"{k} recommendations")
    return out + [f"pin not applied: {line}" for line in counts.get("pins_not_applied") or []]
