"""Scenario files: the pydantic schema, YAML loading with line numbers, and cross-checks.

This module owns the scenario vocabulary (every YAML key is a field here) and turns a YAML
file into a validated, immutable :class:`Scenario`, or into a :class:`~sim.errors.ScenarioError`
listing every problem as ``file:line: field.path: message (hint)``.

Units: every duration accepts a number (seconds) or a string with a unit ("20s", "15 min",
"8h", "2d"); it is stored in seconds. Shares and probabilities are fractions in [0, 1].
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from sim.errors import Problem, ScenarioError

# --------------------------------------------------------------------------- units

_UNIT_S = {
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
    "m": 60.0, "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "d": 86400.0, "day": 86400.0, "days": 86400.0,
}
_DURATION_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Z]*)\s*$")


def parse_duration_s(value: Any) -> float:
    """Seconds from a number (seconds) or a string such as ``"20s"``, ``"15 min"``, ``"8h"``."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as '20s', '15 min' or '8h'")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        m = _DURATION_RE.match(value)
        if m:
            unit = m.group(2).lower() or "s"
            if unit in _UNIT_S:
                return float(m.group(1)) * _UNIT_S[unit]
            close = difflib.get_close_matches(unit, list(_UNIT_S), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ValueError(f"unknown time unit '{m.group(2)}'{hint}; use s, min, h or d")
    raise ValueError(f"expected a duration such as '20s', '15 min' or '8h', got {value!r}")


_DURATION_JSON = {"anyOf": [{"type": "number", "description": "seconds"},
                            {"type": "string", "pattern": _DURATION_RE.pattern}]}
Duration = Annotated[float, BeforeValidator(parse_duration_s), WithJsonSchema(_DURATION_JSON)]
PositiveDuration = Annotated[Duration, Field(gt=0)]
NonNegDuration = Annotated[Duration, Field(ge=0)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


def _parse_clock_s(value: str) -> float:
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", str(value))
    if not m or int(m.group(1)) > 24 or int(m.group(2)) > 59 or (
            int(m.group(1)) == 24 and int(m.group(2)) != 0):
        raise ValueError(f"expected a time of day 'HH:MM', got {value!r}")
    return int(m.group(1)) * 3600.0 + int(m.group(2)) * 60.0


ClockTime = Annotated[float, BeforeValidator(_parse_clock_s),
                      WithJsonSchema({"type": "string", "pattern": r"^\d{1,2}:\d{2}$"})]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def parse_days(value: Any) -> tuple[int, ...]:
    """Weekday numbers (Monday = 0) from ``"mon-fri"``, ``"sat,sun"``, ``"daily"`` or a list."""
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    days: set[int] = set()
    for item in items:
        token = str(item).strip().lower()
        if token in ("daily", "all", "every day", "mon-sun"):
            days.update(range(7))
        elif "-" in token:
            a, b = (t.strip()[:3] for t in token.split("-", 1))
            if a not in WEEKDAYS or b not in WEEKDAYS:
                raise ValueError(f"unknown weekday range {token!r}; use e.g. 'mon-fri'")
            i, j = WEEKDAYS.index(a), WEEKDAYS.index(b)
            days.update(range(i, j + 1) if i <= j else [*range(i, 7), *range(0, j + 1)])
        elif token[:3] in WEEKDAYS and WEEKDAYS[WEEKDAYS.index(token[:3])].startswith(token[:3]):
            days.add(WEEKDAYS.index(token[:3]))
        else:
            raise ValueError(f"unknown weekday {token!r}; use mon, tue, ... or 'mon-fri'")
    return tuple(sorted(days))


Days = Annotated[tuple[int, ...], BeforeValidator(parse_days),
                 WithJsonSchema({"anyOf": [{"type": "string"},
                                           {"type": "array", "items": {"type": "string"}}]})]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- distributions


class Exponential(_Strict):
    dist: Literal["exponential"]
    mean: PositiveDuration


class LogNormal(_Strict):
    dist: Literal["lognormal"]
    mean: PositiveDuration
    cv: Annotated[float, Field(gt=0)]


class Gamma(_Strict):
    dist: Literal["gamma"]
    mean: PositiveDuration
    cv: Annotated[float, Field(gt=0)]


class Erlang(_Strict):
    dist: Literal["erlang"]
    mean: PositiveDuration
    k: Annotated[int, Field(ge=1)]


class Deterministic(_Strict):
    dist: Literal["deterministic"]
    value: NonNegDuration


class Uniform(_Strict):
    dist: Literal["uniform"]
    low: NonNegDuration
    high: PositiveDuration

    @model_validator(mode="after")
    def _order(self):
        if self.high <= self.low:
            raise ValueError("high must be greater than low")
        return self


class Triangular(_Strict):
    dist: Literal["triangular"]
    low: NonNegDuration
    mode: NonNegDuration
    high: PositiveDuration

    @model_validator(mode="after")
    def _order(self):
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError("need low <= mode <= high and low < high")
        return self


class Empirical(_Strict):
    """Resampled observed values: inline ``values`` or a ``csv`` file and ``column``."""

    dist: Literal["empirical"]
    values: tuple[NonNegDuration, ...] | None = None
    csv: str | None = None
    column: str | None = None

    @model_validator(mode="after")
    def _source(self):
        if (self.values is None) == (self.csv is None):
            raise ValueError("give either values or csv (with column)")
        if self.values is not None and len(self.values) == 0:
            raise ValueError("values is empty")
        if self.csv is not None and not self.column:
            raise ValueError("csv needs a column")
        return self


Distribution = Annotated[
    Union[Exponential, LogNormal, Gamma, Erlang, Deterministic, Uniform, Triangular, Empirical],
    Field(discriminator="dist"),
]


def distribution_mean_s(d) -> float:
    """Mean of a distribution in seconds (empirical from its values; NaN if from a CSV)."""
    if isinstance(d, (Exponential, LogNormal, Gamma, Erlang)):
        return d.mean
    if isinstance(d, Deterministic):
        return d.value
    if isinstance(d, Uniform):
        return (d.low + d.high) / 2
    if isinstance(d, Triangular):
        return (d.low + d.mode + d.high) / 3
    if isinstance(d, Empirical) and d.values is not None:
        return sum(d.values) / len(d.values)
    return math.nan


# --------------------------------------------------------------------------- sections


class Horizon(_Strict):
    """The simulated span. ``days`` or ``months`` from ``start``; KPIs skip ``warmup``."""

    start: dt.date = dt.date(2026, 1, 5)
    days: Annotated[int, Field(ge=1)] | None = None
    months: Annotated[int, Field(ge=1)] | None = None
    warmup: NonNegDuration = 0.0
    interval: PositiveDuration = 1800.0

    @model_validator(mode="after")
    def _span(self):
        if (self.days is None) == (self.months is None):
            raise ValueError("give exactly one of days or months")
        if abs(86400.0 / self.interval - round(86400.0 / self.interval)) > 1e-9:
            raise ValueError(f"interval of {self.interval:g} s does not divide a day "
                             "(use 15 min, 30 min or 60 min)")
        return self

    @property
    def end(self) -> dt.date:
        if self.days is not None:
            return self.start + dt.timedelta(days=self.days)
        y, m = divmod(self.start.month - 1 + self.months, 12)
        day = min(self.start.day, 28)
        return dt.date(self.start.year + y, m + 1, day) if self.start.day <= 28 else \
            dt.date(self.start.year + y, m + 1, 1)

    @property
    def horizon_s(self) -> float:
        return (self.end - self.start).days * 86400.0


class SLA(_Strict):
    """Service-level threshold (live: answer within; deferred: response window) and target."""

    threshold: PositiveDuration
    target: Fraction | None = None


OpeningSpec = Union[Literal["24/7"], dict[str, str]]


def parse_opening_hours(spec: OpeningSpec) -> tuple[tuple[tuple[float, float], ...], ...]:
    """Per weekday (Monday first) the open spans ``(open_s, close_s)`` within the day."""
    if spec == "24/7":
        return tuple(((0.0, 86400.0),) for _ in range(7))
    week: list[list[tuple[float, float]]] = [[] for _ in range(7)]
    for days, text in spec.items():
        for d in parse_days(days):
            if str(text).strip().lower() in ("closed", "off", "none"):
                continue
            for span in str(text).split(","):
                if "-" not in span:
                    raise ValueError(f"expected 'HH:MM-HH:MM' or 'closed', got {span!r}")
                a, b = span.split("-", 1)
                o, c = _parse_clock_s(a), _parse_clock_s(b)
                if c <= o:
                    raise ValueError(f"closing time before opening time in {span!r}")
                week[d].append((o, c))
    return tuple(tuple(sorted(w)) for w in week)


class Channel(_Strict):
    """A contact channel: ``live`` (patience, abandonment) or ``deferred`` (backlog)."""

    kind: Literal["live", "deferred"]
    patience: Distribution | None = None
    concurrency: Annotated[int, Field(ge=1, le=60)] = 1
    slowdown: Annotated[float, Field(ge=0)] = 0.0
    sla: SLA | None = None
    hours: OpeningSpec = "24/7"
    when_closed: Literal["lost", "voicemail"] = "lost"
    voicemail_to: str | None = None

    @field_validator("concurrency")
    @classmethod
    def _divides(cls, v):
        if 60 % v:
            raise ValueError("concurrency must divide 60 (1, 2, 3, 4, 5, 6, 10, 12, ...)")
        return v

    @field_validator("hours")
    @classmethod
    def _hours(cls, v):
        parse_opening_hours(v)
        return v

    @model_validator(mode="after")
    def _kind(self):
        if self.kind == "deferred" and self.patience is not None:
            raise ValueError("a deferred channel has no patience (its contacts never abandon)")
        if self.when_closed == "voicemail" and not self.voicemail_to:
            raise ValueError("when_closed: voicemail needs voicemail_to: <deferred channel>")
        return self


class Queue(_Strict):
    """A skill queue; lower ``priority`` is served first."""

    priority: int = 1


class Repeat(_Strict):
    """Repeat contact when not resolved at first contact (simulated from issue 4 on)."""

    delay: Distribution
    channel: str | None = None
    max_repeats: Annotated[int, Field(ge=0)] = 2


class Escalation(_Strict):
    """Share of contacts escalated to a higher tier, by severity (simulated from issue 4 on)."""

    rate: Fraction
    to_tier: Annotated[int, Field(ge=2, le=3)] = 2
    severity: Literal["routine", "urgent", "critical"] = "routine"


class Refund(_Strict):
    """Refund or billing adjustment requested on a share of contacts (issue 4)."""

    probability: Fraction
    amount: Distribution


class ContactType(_Strict):
    """A call driver: which queue it needs, its share of each channel, its work content."""

    queue: str
    share: dict[str, Fraction]
    handle_time: Distribution
    wrap_up: Distribution | None = None
    fcr: Fraction = 1.0
    repeat: Repeat | None = None
    escalation: Escalation | None = None
    refund: Refund | None = None


class Demand(_Strict):
    """Arrival volumes: ``daily`` or ``monthly`` per channel, shaped by the factors below."""

    daily: dict[str, Annotated[float, Field(ge=0)]] | None = None
    monthly: dict[str, Annotated[float, Field(ge=0)]] | None = None
    intraday: dict[str, tuple[Annotated[float, Field(ge=0)], ...]] | None = None
    weekday: dict[str, Annotated[float, Field(ge=0)]] | None = None
    month_factor: dict[str, Annotated[float, Field(ge=0)]] | None = None
    special_days: dict[dt.date, Annotated[float, Field(ge=0)]] | None = None
    overdispersion: Annotated[float, Field(ge=0)] = 0.0
    forecast_csv: str | None = None

    @model_validator(mode="after")
    def _source(self):
        given = [k for k in ("daily", "monthly", "forecast_csv") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of daily, monthly or forecast_csv")
        for name, table, keys in (("weekday", self.weekday, WEEKDAYS),
                                  ("month_factor", self.month_factor, MONTHS)):
            for k in table or {}:
                if k not in keys:
                    raise ValueError(f"{name}: unknown key {k!r}; use {', '.join(keys)}")
        return self


class Skill(_Strict):
    proficiency: Annotated[float, Field(gt=0)] = 1.0
    priority: int = 1


def _skill(v):
    return {"proficiency": v} if isinstance(v, (int, float)) and not isinstance(v, bool) else v


class Shift(_Strict):
    """A shift pattern worked by ``agents`` agents on ``days`` between optional dates."""

    start: ClockTime
    length: PositiveDuration
    days: Days = tuple(range(7))
    agents: Annotated[int, Field(ge=1)]
    from_date: dt.date | None = None
    until_date: dt.date | None = None

    @field_validator("length")
    @classmethod
    def _max_len(cls, v):
        if v > 86400:
            raise ValueError("a shift is at most 24 h long")
        return v


class Team(_Strict):
    """Agents with the same skills, channels, tier, speed, cost and shifts."""

    tier: Annotated[int, Field(ge=1, le=3)] = 1
    headcount: Annotated[int, Field(ge=1)] | None = None
    shifts: tuple[Shift, ...] | None = None
    skills: dict[str, Annotated[Skill, BeforeValidator(_skill)]]
    channels: tuple[str, ...]
    speed: Annotated[float, Field(gt=0)] = 1.0
    cost_per_hour: Annotated[float, Field(ge=0)] = 0.0

    @model_validator(mode="after")
    def _staff(self):
        if (self.headcount is None) == (self.shifts is None):
            raise ValueError("give exactly one of headcount (always on duty) or shifts")
        if not self.skills:
            raise ValueError("a team needs at least one skill")
        return self

    @property
    def n_agents(self) -> int:
        return self.headcount if self.shifts is None else sum(s.agents for s in self.shifts)


class TimedShrinkage(_Strict):
    """A break at ``after`` from the shift start, jittered uniformly by +/- ``jitter`` / 2."""

    after: NonNegDuration
    length: PositiveDuration
    jitter: NonNegDuration = 0.0


class WeeklyShrinkage(_Strict):
    """Meetings or training: ``per_week`` sessions of ``length`` per agent, at random times."""

    length: PositiveDuration
    per_week: Annotated[float, Field(ge=0)]


class Shrinkage(_Strict):
    """Time on shift not available for contacts, modelled as events on each agent's timeline."""

    breaks: tuple[TimedShrinkage, ...] = ()
    lunch: TimedShrinkage | None = None
    meetings: WeeklyShrinkage | None = None
    training: WeeklyShrinkage | None = None
    absence: Fraction = 0.0


class Routing(_Strict):
    on_arrival: Literal["longest_idle", "skill_priority", "most_proficient", "random"] = \
        "longest_idle"
    on_free: Literal["queue_priority", "oldest"] = "queue_priority"


class Bound(_Strict):
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _some(self):
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is greater than max")
        return self


class Scenario(_Strict):
    """A contact center: the root of a scenario file."""

    name: str
    description: str = ""
    seed: int = 20260101
    horizon: Horizon
    channels: dict[str, Channel]
    queues: dict[str, Queue] | None = None
    contact_types: dict[str, ContactType]
    demand: Demand
    teams: dict[str, Team]
    shrinkage: Shrinkage = Shrinkage()
    routing: Routing = Routing()
    targets: dict[str, dict[str, Bound]] = {}
    _base_dir: Path | None = PrivateAttr(default=None)
    _file: str = PrivateAttr(default="<scenario>")
    _lines: dict = PrivateAttr(default_factory=dict)

    def line_of(self, *path) -> int | None:
        """The line of a key path in the scenario file (of its nearest known parent)."""
        while path and path not in self._lines:
            path = path[:-1]
        return self._lines.get(path)

    def queue_priority(self, queue: str) -> int:
        return self.queues[queue].priority if self.queues and queue in self.queues else 1

    @property
    def queue_names(self) -> tuple[str, ...]:
        if self.queues:
            return tuple(self.queues)
        return tuple(dict.fromkeys(ct.queue for ct in self.contact_types.values()))


# --------------------------------------------------------------------------- YAML with lines


def _load_yaml(text: str, file: str) -> tuple[Any, dict[tuple, int]]:
    """Parse YAML safely; return the data and the line (1-based) of every key path."""
    lines: dict[tuple, int] = {}
    problems: list[Problem] = []
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                raise ScenarioError([Problem(file, 1, "", "the file is empty")])

            def walk(n, path):
                lines.setdefault(path, n.start_mark.line + 1)
                if isinstance(n, yaml.MappingNode):
                    seen = {}
                    for k, v in n.value:
                        key = loader.construct_object(k, deep=True)
                        if key in seen:
                            problems.append(Problem(
                                file, k.start_mark.line + 1, _fmt_path(path + (key,)),
                                f"duplicate key (first at line {seen[key]})"))
                        seen[key] = k.start_mark.line + 1
                        lines[path + (key,)] = k.start_mark.line + 1
                        walk(v, path + (key,))
                elif isinstance(n, yaml.SequenceNode):
                    for i, v in enumerate(n.value):
                        walk(v, path + (i,))

            walk(node, ())
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else None
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError([Problem(file, line, "", f"not valid YAML: {what}",
                                     "check indentation and quoting")]) from None
    if problems:
        raise ScenarioError(problems)
    return data, lines


def _fmt_path(path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _line_for(lines: dict[tuple, int], loc) -> tuple[int | None, tuple]:
    """The line of the longest prefix of ``loc`` found in the file, and that clean path."""
    path: tuple = ()
    best = lines.get((), None)
    for part in loc:
        if path + (part,) in lines:
            path = path + (part,)
            best = lines[path]
        elif isinstance(part, str) and (part[:1].isupper() or "[" in part or part in
                                        ("function-after", "function-before")):
            continue  # union member / validator tags in pydantic's loc
        else:
            path = path + (part,)
    return best, path


def _unwrap(tp):
    """The model class (if any) behind an annotation, and the kind of container."""
    origin = typing.get_origin(tp)
    if origin is Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin in (Union, types.UnionType):
        for a in typing.get_args(tp):
            if a is not type(None):
                found = _unwrap(a)
                if found[0] is not None:
                    return found
        return None, None
    if origin is dict:
        return _unwrap(typing.get_args(tp)[1])[0], "dict"
    if origin is tuple:
        return _unwrap(typing.get_args(tp)[0])[0], "list"
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp, None
    return None, None


def _allowed_keys(loc) -> list[str]:
    """Field names allowed at the parent of ``loc`` (for 'did you mean' hints)."""
    cls: Any = Scenario
    container = None
    for part in loc[:-1]:
        if cls is None:
            return []
        if container in ("dict", "list"):
            container = None
            continue
        if isinstance(part, str) and part in getattr(cls, "model_fields", {}):
            cls, container = _unwrap(cls.model_fields[part].annotation)
        elif isinstance(part, str) and part[:1].isupper():
            cls = next((m for m in _all_models() if m.__name__ == part), cls)
        elif isinstance(part, str) and cls is not None and "dist" in cls.model_fields:
            continue
        else:
            cls = None
    return list(getattr(cls, "model_fields", {})) if cls is not None else []


def _all_models():
    seen, todo = set(), [Scenario]
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        for f in m.model_fields.values():
            for a in _flatten_types(f.annotation):
                if isinstance(a, type) and issubclass(a, BaseModel):
                    todo.append(a)
    return seen


def _flatten_types(tp):
    yield tp
    for a in typing.get_args(tp):
        yield from _flatten_types(a)


def _suggest(word: str, options) -> str:
    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


def _pydantic_problems(exc: ValidationError, lines, file) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = err["loc"]
        line, path = _line_for(lines, loc)
        field = _fmt_path(path)
        kind = err["type"]
        hint = ""
        if kind == "extra_forbidden":
            allowed = _allowed_keys(path)
            msg = f"unknown key '{path[-1]}'"
            hint = _suggest(path[-1], allowed) or (
                f"allowed: {', '.join(allowed)}" if allowed else "")
        elif kind == "missing":
            msg = "required key is missing"
        elif kind == "union_tag_invalid":
            msg = f"unknown distribution {err['input'].get('dist')!r}" if isinstance(
                err.get("input"), dict) else err["msg"]
            hint = "use exponential, lognormal, gamma, erlang, deterministic, uniform, " \
                   "triangular or empirical"
        elif kind == "union_tag_not_found":
            msg = "a distribution needs 'dist'"
            hint = "e.g. {dist: exponential, mean: 5min}"
        else:
            msg = err["msg"].removeprefix("Value error, ")
        problems.append(Problem(file, line, field, msg, hint))
    # one line per place: pydantic may report a union failure once per member
    unique, seen = [], set()
    for p in problems:
        if str(p) not in seen:
            seen.add(str(p))
            unique.append(p)
    return unique


# --------------------------------------------------------------------------- cross-checks


def _cross_check(s: Scenario, lines, file) -> list[Problem]:
    """Problems no single field can see: names that must refer to each other, shares, etc."""
    out: list[Problem] = []

    def add(path, msg, hint=""):
        out.append(Problem(file, _line_for(lines, path)[0], _fmt_path(path), msg, hint))

    channels = set(s.channels)
    queues = s.queue_names
    for name, ch in s.channels.items():
        if ch.kind == "deferred" and ch.concurrency != 1:
            add(("channels", name, "concurrency"), "concurrency applies to live channels only")
        if ch.voicemail_to is not None:
            target = s.channels.get(ch.voicemail_to)
            if target is None:
                add(("channels", name, "voicemail_to"),
                    f"unknown channel '{ch.voicemail_to}'", _suggest(ch.voicemail_to, channels))
            elif target.kind != "deferred":
                add(("channels", name, "voicemail_to"),
                    f"'{ch.voicemail_to}' is not a deferred channel")
    for name, ct in s.contact_types.items():
        if ct.queue not in queues:
            add(("contact_types", name, "queue"), f"unknown queue '{ct.queue}'",
                _suggest(ct.queue, queues))
        for chname in ct.share:
            if chname not in channels:
                add(("contact_types", name, "share", chname), f"unknown channel '{chname}'",
                    _suggest(chname, channels))
        if ct.repeat and ct.repeat.channel and ct.repeat.channel not in channels:
            add(("contact_types", name, "repeat", "channel"),
                f"unknown channel '{ct.repeat.channel}'", _suggest(ct.repeat.channel, channels))
    volumes = s.demand.daily or s.demand.monthly or {}
    vol_key = "daily" if s.demand.daily is not None else "monthly"
    for chname, vol in volumes.items():
        if chname not in channels:
            add(("demand", vol_key, chname), f"unknown channel '{chname}'",
                _suggest(chname, channels))
            continue
        total = sum(ct.share.get(chname, 0.0) for ct in s.contact_types.values())
        if vol > 0 and abs(total - 1.0) > 1e-6:
            add(("demand", vol_key, chname),
                f"contact type shares on channel '{chname}' sum to {total:.4g}, not 1",
                "adjust contact_types.*.share." + chname)
    for key in s.demand.intraday or {}:
        if key != "default" and key not in channels:
            add(("demand", "intraday", key), f"unknown channel '{key}'",
                _suggest(key, [*channels, "default"]))
    for key, weights in (s.demand.intraday or {}).items():
        n_per_day = round(86400.0 / s.horizon.interval)
        if len(weights) not in (24, n_per_day):
            add(("demand", "intraday", key),
                f"{len(weights)} weights; give 24 (hourly) or {n_per_day} (one per interval)")
        elif sum(weights) <= 0:
            add(("demand", "intraday", key), "weights sum to 0")
    served: set[tuple[str, str]] = set()
    skills_used: set[str] = set()
    for tname, team in s.teams.items():
        for q in team.skills:
            skills_used.add(q)
            if q not in queues:
                add(("teams", tname, "skills", q), f"unknown queue '{q}'", _suggest(q, queues))
        for i, chname in enumerate(team.channels):
            if chname not in channels:
                add(("teams", tname, "channels", i), f"unknown channel '{chname}'",
                    _suggest(chname, channels))
        served.update((q, c) for q in team.skills for c in team.channels)
        for i, sh in enumerate(team.shifts or ()):
            first = max(s.horizon.start, sh.from_date or s.horizon.start)
            last = min(s.horizon.end - dt.timedelta(days=1), sh.until_date or s.horizon.end)
            days = [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]
            if not any(d.weekday() in sh.days for d in days):
                add(("teams", tname, "shifts", i), "this shift never falls inside the horizon",
                    f"horizon is {s.horizon.start} to {s.horizon.end}")
    for q in queues:
        if s.queues and q not in skills_used:
            add(("queues", q), f"no team has the skill '{q}'", "add it to a team's skills")
    for name, ct in s.contact_types.items():
        for chname, share in ct.share.items():
            if share > 0 and chname in channels and (ct.queue, chname) not in served:
                add(("contact_types", name, "share", chname),
                    f"no team serves queue '{ct.queue}' on channel '{chname}'",
                    "give a team that skill and channel")
    for group, bounds in s.targets.items():
        from sim.kpi import KPI_KEYS as KPI_NAMES  # late import: kpi imports numpy/pandas

        if group != "all" and group not in channels:
            add(("targets", group), f"unknown channel '{group}'", _suggest(group, [*channels,
                                                                                 "all"]))
        for kpi in bounds:
            if kpi not in KPI_NAMES:
                add(("targets", group, kpi), f"unknown KPI '{kpi}'", _suggest(kpi, KPI_NAMES))
    return out


def parse_scenario(text: str, file: str = "<scenario>") -> Scenario:
    """Validate scenario text; raise :class:`ScenarioError` listing every problem."""
    data, lines = _load_yaml(text, file)
    if not isinstance(data, dict):
        raise ScenarioError([Problem(file, 1, "", "a scenario is a mapping of keys to values",
                                     "start with 'name:'")])
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_pydantic_problems(exc, lines, file)) from None
    problems = _cross_check(scenario, lines, file)
    if problems:
        raise ScenarioError(problems)
    scenario._file = file
    scenario._lines = lines
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario YAML file.

    Relative CSV paths inside the scenario (forecast, empirical distributions) are resolved
    against the scenario file's folder.

    Raises
    ------
    ScenarioError
        Every problem, each with file, line, field path and hint.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError([Problem(str(path), None, "", f"cannot read file: {exc.strerror}")])
    scenario = parse_scenario(text, str(path))
    scenario._base_dir = path.resolve().parent
    return scenario


def scenario_base_dir(scenario: Scenario) -> Path:
    """The folder relative CSV paths of the scenario are read from."""
    return scenario._base_dir or Path.cwd()


def json_schema() -> dict:
    """The JSON Schema of scenario files (for editors' autocompletion)."""
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "ccsim scenario"
    return schema
