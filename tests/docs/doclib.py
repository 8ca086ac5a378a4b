"""Reading the docs the way the docs tests check them: code blocks, command lines, markers, numbers.

Every finding carries the doc and line (``docs/training.md:42``) so a failure tells the author of a
section exactly what to fix.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SHELL_LANGS = {"", "bash", "sh", "shell", "console", "text"}


def rel(path: Path) -> str:
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return str(path)


@dataclass
class Block:
    """A fenced code block: its language, first content line (1-based) and lines."""

    doc: Path
    lang: str
    line: int
    lines: list[str]
    marker: str | None = None  # the `<!-- sncse:... -->` comment right above it, if any


def blocks(doc: Path) -> list[Block]:
    out: list[Block] = []
    lines = doc.read_text(encoding="utf-8").splitlines()
    i = 0
    last_comment: tuple[int, str] | None = None
    while i < len(lines):
        text = lines[i]
        m = re.match(r"^(\s*)(```+|~~~+)\s*([\w+-]*)", text)
        if m:
            fence, lang = m.group(2), m.group(3).lower()
            start = i + 1
            j = start
            while j < len(lines) and not lines[j].strip().startswith(fence):
                j += 1
            marker = last_comment[1] if last_comment and last_comment[0] in (i - 1, i - 2) else None
            out.append(Block(doc, lang, start + 1, lines[start:j], marker))
            i = j + 1
            continue
        c = re.match(r"^\s*<!--\s*(sncse:[^>]*?)\s*-->", text)
        if c:
            last_comment = (i, c.group(1))
        i += 1
    return out


def prose_lines(doc: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of every line outside fenced code blocks."""
    inside = None
    for n, text in enumerate(doc.read_text(encoding="utf-8").splitlines(), start=1):
        m = re.match(r"^\s*(```+|~~~+)", text)
        if m:
            if inside is None:
                inside = m.group(1)
            elif text.strip().startswith(inside):
                inside = None
            continue
        if inside is None:
            yield n, text


INLINE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")


def inline_code(text: str) -> list[str]:
    return INLINE.findall(text)


# ------------------------------------------------------------------------------------------ commands
@dataclass
class CommandLine:
    """One `sncse ...` invocation found in a doc."""

    doc: Path
    line: int
    text: str  # as written (continuations joined)
    argv: list[str]  # after `sncse`
    env: dict[str, str] = field(default_factory=dict)
    expects_error: bool = False  # the doc shows it failing (`error:` on the next line)
    synopsis: bool = False  # a usage line with [optional] parts
    inline: bool = False  # an inline code span of the prose (a mention: arguments may be left out)

    @property
    def where(self) -> str:
        return f"{rel(self.doc)}:{self.line}"


_ENV = re.compile(r"^[A-Z_][A-Z0-9_]*=")
_SEPARATORS = {"&&", "||", ";", "|", "&"}


def _split_shell(text: str) -> list[list[str]] | None:
    try:
        lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        tokens = list(lexer)
    except ValueError:
        return None
    parts: list[list[str]] = [[]]
    for tok in tokens:
        if tok in _SEPARATORS:
            parts.append([])
        else:
            parts[-1].append(tok)
    return [p for p in parts if p]


def _sncse_argv(words: list[str]) -> tuple[dict[str, str], list[str]] | None:
    """(env assignments, argv after the program) when ``words`` runs sncse, else None."""
    env: dict[str, str] = {}
    i = 0
    if words and words[0] == "$":
        i = 1
    while i < len(words) and _ENV.match(words[i]):
        k, v = words[i].split("=", 1)
        env[k] = v
        i += 1
    if i < len(words) and words[i] in ("time", "exec"):
        i += 1
    if i < len(words) and words[i] == "sncse":
        return env, words[i + 1:]
    for j in range(i, len(words) - 1):  # python -m sncse_cli.main ..., torchrun ... -m sncse_cli.main ...
        if words[j] == "-m" and words[j + 1] == "sncse_cli.main":
            return env, words[j + 2:]
    return None


def _synopsis_words(text: str) -> list[str]:
    """A usage line: drop the brackets of optional parts, keep the first of `a | b` alternatives."""
    text = text.replace("[", " ").replace("]", " ").replace("...", " ")
    text = re.sub(r"\s\|\s", " ", text)
    return text.split()


def commands_in_text(doc: Path, line: int, text: str, expects_error: bool = False,
                     inline: bool = False) -> list[CommandLine]:
    out = []
    if text.lstrip().startswith("$ "):
        text = text.lstrip()[2:]
    synopsis = bool(re.search(r"\[-|\[[A-Z]", text))
    if synopsis:
        parts = [_synopsis_words(text)]
    else:
        parts = _split_shell(text) or []
    for words in parts:
        found = _sncse_argv(words)
        if found is not None:
            env, argv = found
            argv = [w for w in argv if w not in ("...", "…")]
            out.append(CommandLine(doc, line, text.strip(), argv, env, expects_error, synopsis, inline))
    return out


def block_commands(block: Block) -> list[CommandLine]:
    out: list[CommandLine] = []
    if block.lang not in SHELL_LANGS:
        return out
    i = 0
    lines = block.lines
    while i < len(lines):
        start = i
        text = lines[i]
        while text.rstrip().endswith("\\") and i + 1 < len(lines):
            i += 1
            text = text.rstrip()[:-1] + " " + lines[i].strip()
        following = lines[i + 1].lstrip() if i + 1 < len(lines) else ""
        out += commands_in_text(block.doc, block.line + start, text, expects_error=following.startswith("error:"))
        i += 1
    return out


def doc_commands(doc: Path) -> list[CommandLine]:
    """Every sncse command line of a doc: in shell code blocks, and in inline code spans of the prose."""
    out: list[CommandLine] = []
    for block in blocks(doc):
        out += block_commands(block)
    for n, text in prose_lines(doc):
        for code in inline_code(text):
            if code.startswith("sncse ") or code.startswith("$ sncse "):
                out += commands_in_text(doc, n, code, inline=True)
    return out


def overrides_of(argv: list[str]) -> list[str]:
    """The `--set key=value` / `-s key=value` values of an argv."""
    out = []
    for i, word in enumerate(argv):
        if word in ("--set", "-s") and i + 1 < len(argv):
            out.append(argv[i + 1])
        elif word.startswith("--set="):
            out.append(word.split("=", 1)[1])
    return out


def config_of(argv: list[str], env: dict[str, str]) -> str | None:
    for i, word in enumerate(argv):
        if word in ("-c", "--config") and i + 1 < len(argv):
            return argv[i + 1]
        if word.startswith("--config="):
            return word.split("=", 1)[1]
    return env.get("SNCSE_CONFIG")


# ------------------------------------------------------------------------------------------ numbers
_VERSION = re.compile(r"\d+(?:\.\d+){2,}")
_LINK_TARGET = re.compile(r"\]\([^)]*\)|<https?://[^>]*>|https?://\S+")
NUMBER = re.compile(r"(?<![\w.\-+/#])([-+]?\d+(?:,\d{3})*(?:\.\d+)?(?:e[-+]?\d+)?)(?:x|%)?(?![\w]|\.\d|-[A-Za-z])")
_MIN_S = re.compile(r"(\d+) min (\d+) s\b")


@dataclass
class Number:
    text: str  # as printed
    value: float
    decimals: int  # digits after the point (significant digits for the e-notation)
    scientific: bool = False


def numbers_in(text: str) -> list[Number]:
    """The numbers of a prose or table line: code spans, links, versions and HTML comments left out;
    ``6 min 26 s`` is one number of seconds (386)."""
    text = re.sub(r"<!--.*?-->", " ", text)
    text = INLINE.sub(" ", text)
    text = _LINK_TARGET.sub(" ", text)
    text = _VERSION.sub(" ", text)
    out: list[Number] = []

    def minutes(m: re.Match) -> str:
        out.append(Number(m.group(0), int(m.group(1)) * 60 + int(m.group(2)), 0))
        return " "

    text = _MIN_S.sub(minutes, text)
    for m in NUMBER.finditer(text):
        raw = m.group(1)
        plain = raw.replace(",", "")
        scientific = "e" in plain.lower()
        if scientific:
            mantissa = plain.lower().split("e")[0]
            decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
        else:
            decimals = len(plain.split(".")[1]) if "." in plain else 0
        out.append(Number(raw, float(plain), decimals, scientific))
    return out


def json_numbers(obj, out: list[float] | None = None) -> list[float]:
    """Every number of a JSON document, including numbers written inside its strings."""
    out = [] if out is None else out
    if isinstance(obj, bool):
        return out
    if isinstance(obj, int | float):
        out.append(float(obj))
    elif isinstance(obj, str):
        out += [n.value for n in numbers_in(obj.replace("`", " "))]
        out += [float(x) for x in re.findall(r"(?<![\w.])\d+(?:\.\d+)?", obj)]
    elif isinstance(obj, dict):
        for k, v in obj.items():
            json_numbers(k, out)
            json_numbers(v, out)
    elif isinstance(obj, list):
        for v in obj:
            json_numbers(v, out)
    return out


#: how a JSON value may be printed: as it is, as a percentage, seconds as ms, minutes or hours
SCALES = (1.0, 100.0, 1000.0, 1 / 60, 1 / 3600)


def matches(number: Number, values: list[float]) -> bool:
    """The printed number is some JSON value, in one of :data:`SCALES`, rounded as printed."""
    if number.scientific:
        tol = abs(number.value) * 0.5 * 10 ** -number.decimals + 1e-300
    else:
        tol = 0.5 * 10 ** -number.decimals + 1e-9
    return any(abs(scale * v - number.value) <= tol for v in values for scale in SCALES)
