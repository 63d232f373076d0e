"""Self-contained HTML pages for reports: plots embedded as PNG data, tables, and the small
Markdown the training and retraining reports are written in. One file opens anywhere,
mailed or copied, with nothing beside it."""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto;
       padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.85rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f3f3f3; }
img { max-width: 100%; }
.warning { background: #fff3cd; border-left: 4px solid #e0a800; padding: 0.5rem 0.75rem; }
code { background: #f3f3f3; padding: 0 0.2rem; }
"""


def escape(text: str) -> str:
    return html.escape(text)


def png(fig) -> str:
    """``<img>`` of a matplotlib figure, embedded as base64 PNG; closes the figure."""
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="plot" src="data:image/png;base64,{data}">'


def table(frame: pd.DataFrame, index: bool = False, digits: int = 3) -> str:
    """An HTML table of ``frame`` (numbers rounded to ``digits``)."""
    def cell(value) -> str:
        if isinstance(value, float):
            return "" if value != value else f"{value:,.{digits}f}"
        if isinstance(value, int):
            return f"{value:,}"
        return html.escape(str(value))

    frame = frame.reset_index() if index else frame
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
            f"<body><h1>{html.escape(title)}</h1>{body}</body></html>")


def _inline(text: str) -> str:
    text = html.escape(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", text)


def _image(alt: str, name: str, folder: Path) -> str:
    path = folder / name
    if not path.exists():
        return f"<p>(missing plot {html.escape(name)})</p>"
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def from_markdown(markdown: str, folder: Path) -> str:
    """The HTML body of the Markdown our reports are written in: headings, bullet lists,
    tables, images (embedded from ``folder``) and paragraphs with bold and code."""
    out, lines, i = [], markdown.splitlines(), 0
    while i < len(lines):
        line = lines[i].rstrip()
        image = re.fullmatch(r"!\[(.*?)\]\((.+?)\)", line.strip())
        if not line.strip():
            i += 1
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{_inline(line[level:].strip())}</h{level}>")
            i += 1
        elif image:
            out.append(_image(image.group(1), image.group(2), folder))
            i += 1
        elif line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                cells = [c.strip() for c in lines[i].strip().strip("|").split("|")]
                if not all(re.fullmatch(r":?-+:?", c) for c in cells if c):
                    rows.append(cells)
                i += 1
            head = "".join(f"<th>{_inline(c)}</th>" for c in rows[0])
            body = "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>"
                           for row in rows[1:])
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif line.startswith("- "):
            items = []
            while i < len(lines) and lines[i].startswith("- "):
                items.append(f"<li>{_inline(lines[i][2:])}</li>")
                i += 1
            out.append(f"<ul>{''.join(items)}</ul>")
        else:
            text = []
            while i < len(lines) and lines[i].strip() and not lines[i].startswith(
                    ("#", "|", "- ", "![")):
                text.append(lines[i].strip())
                i += 1
            out.append(f"<p>{_inline(' '.join(text))}</p>")
    return "".join(out)
