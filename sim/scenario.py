"""Scenario files: the pydantic schema, YAML loading with line numbers, and cross-checks.

This module owns the scenario vocabulary (every YAML key is a field here) and turns a YAML
file into a validated, immutable :class:`Scenario`, or into a :class:`~sim.errors.ScenarioError`
listing every problem as ``file:line: field.path: message (hint)``, sorted by line.

Units: every duration accepts a number (seconds) or a string with a unit ("20s", "15 min",
"8h", "2d"); it is stored in seconds. Shares and probabilities are fractions in [0, 1].

YAML is read with a safe loader that follows YAML 1.2 where 1.1 surprises people: only
``true``/``false`` are booleans (``off`` and ``no`` stay text) and ``8:30`` stays text
instead of becoming the base-60 number 510.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import difflib
import math
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from sim.errors import Problem, ScenarioError


class _Bad(ValueError):
    """A validation failure with a hint and, optionally, the sub-field it is about.

    ``at`` is appended to the field path pydantic reports, so a model-level check can point at
    the key that is wrong (``channels.email.patience`` rather than ``channels.email``).
    """

    def __init__(self, message: str, hint: str = "", at: tuple = ()):
        super().__init__(f"{message} ({hint})" if hint else message)
        self.message, self.hint, self.at = message, hint, tuple(at)


def _suggest(word: Any, options) -> str:
    """``"did you mean 'x'?"`` for the closest of ``options``, or ``""``."""
    close = difflib.get_close_matches(str(word).lower(), [str(o) for o in options], n=1,
                                      cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


def _or(options) -> str:
    options = [str(o) for o in options]
    return options[0] if len(options) == 1 else f"{', '.join(options[:-1])} or {options[-1]}"


def _show(v) -> str:
    """A value as the YAML author wrote it: 'text', 5, true, a list, nothing."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, (list, tuple)):
        return "a list"
    if v is None:
        return "nothing"
    text = repr(v) if isinstance(v, str) else str(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _fmt_s(seconds: float) -> str:
    """A duration in seconds as the shortest exact unit: ``"7min"``, ``"2h"``, ``"45s"``."""
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


# --------------------------------------------------------------------------- units

_UNIT_S = {
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
    "m": 60.0, "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "d": 86400.0, "day": 86400.0, "days": 86400.0,
}
_DURATION_RE = re.compile(r"^\s*([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Z]*)\s*$")
_DURATION_HINT = "a number of seconds, or a number and a unit: s, min, h or d"


def parse_duration_s(value: Any) -> float:
    """Seconds from a number (seconds) or a string such as ``"20s"``, ``"15 min"``, ``"8h"``.

    Raises
    ------
    ValueError
        For anything else, with a hint (the closest unit for a misspelt one).
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        m = _DURATION_RE.match(value)
        if m:
            unit = m.group(2).lower() or "s"
            if unit in _UNIT_S:
                return float(m.group(1)) * _UNIT_S[unit]
            raise _Bad(f"unknown time unit '{m.group(2)}' in {value!r}",
                       _suggest(unit, _UNIT_S) or "use s, min, h or d")
    raise _Bad(f"expected a duration such as '20s', '15 min' or '8h', got {_show(value)}",
               _DURATION_HINT)


_DURATION_JSON = {"anyOf": [{"type": "number", "description": "seconds"},
                            {"type": "string", "pattern": _DURATION_RE.pattern}]}
Duration = Annotated[float, BeforeValidator(parse_duration_s), WithJsonSchema(_DURATION_JSON)]
PositiveDuration = Annotated[Duration, Field(gt=0)]
NonNegDuration = Annotated[Duration, Field(ge=0)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


def _parse_clock_s(value: Any) -> float:
    """Seconds after midnight from ``"HH:MM"`` (``"24:00"`` is the end of the day)."""
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", str(value))
    if not m or int(m.group(1)) > 24 or int(m.group(2)) > 59 or (
            int(m.group(1)) == 24 and int(m.group(2)) != 0):
        raise _Bad(f"expected a time of day 'HH:MM', got {_show(value)}",
                   "e.g. '08:30' or '24:00'")
    return int(m.group(1)) * 3600.0 + int(m.group(2)) * 60.0


def _clock_text(seconds: float) -> str:
    minutes = int(round(seconds / 60.0))
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# Stored in seconds after midnight; written back as "HH:MM" so a resolved scenario reloads.
ClockTime = Annotated[float, BeforeValidator(_parse_clock_s),
                      PlainSerializer(_clock_text, return_type=str, when_used="json"),
                      WithJsonSchema({"type": "string", "pattern": r"^\d{1,2}:\d{2}$"})]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_SETS = {"daily": range(7), "all": range(7), "every day": range(7),
             "weekdays": range(5), "weekend": range(5, 7), "weekends": range(5, 7)}
_DAYS_HINT = "use mon, tue, wed, thu, fri, sat, sun, a range such as 'mon-fri', or 'daily'"


def _weekday(token: str) -> int:
    t = token.strip().lower()
    for i, name in enumerate(_DAY_NAMES):
        if len(t) >= 3 and name.startswith(t):
            return i
    raise _Bad(f"unknown weekday '{token.strip()}'", _suggest(t, WEEKDAYS) or _DAYS_HINT)


def parse_days(value: Any) -> tuple[int, ...]:
    """Weekday numbers (Monday = 0) from ``"mon-fri"``, ``"sat,sun"``, ``"daily"`` or a list.

    Day names may be abbreviated to three letters or more (``tue``, ``tues``, ``tuesday``);
    ``weekdays`` is mon-fri, ``weekend`` sat-sun; a range may wrap (``fri-mon``).
    """
    if isinstance(value, str):
        items: list = value.split(",")
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise _Bad(f"expected weekdays such as 'mon-fri', got {_show(value)}", _DAYS_HINT)
    days: set[int] = set()
    for item in items:
        if not isinstance(item, str):
            raise _Bad(f"expected a weekday name, got {_show(item)}", _DAYS_HINT)
        token = item.strip().lower()
        if token in _DAY_SETS:
            days.update(_DAY_SETS[token])
        elif "-" in token:
            a, b = token.split("-", 1)
            i, j = _weekday(a), _weekday(b)
            days.update(range(i, j + 1) if i <= j else [*range(i, 7), *range(0, j + 1)])
        else:
            days.add(_weekday(token))
    if not days:
        raise _Bad("no weekdays given", _DAYS_HINT)
    return tuple(sorted(days))


Days = Annotated[tuple[int, ...], BeforeValidator(parse_days),
                 PlainSerializer(lambda days: [WEEKDAYS[d] for d in days], return_type=list,
                                 when_used="json"),
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
            raise _Bad(f"high ({_fmt_s(self.high)}) must be greater than low "
                       f"({_fmt_s(self.low)})", at=("high",))
        return self


class Triangular(_Strict):
    dist: Literal["triangular"]
    low: NonNegDuration
    mode: NonNegDuration
    high: PositiveDuration

    @model_validator(mode="after")
    def _order(self):
        if self.high <= self.low:
            raise _Bad(f"high ({_fmt_s(self.high)}) must be greater than low "
                       f"({_fmt_s(self.low)})", at=("high",))
        if not self.low <= self.mode <= self.high:
            raise _Bad(f"mode ({_fmt_s(self.mode)}) must lie between low and high",
                       at=("mode",))
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
            raise _Bad("give either values or csv (with column)",
                       "e.g. values: [3min, 4min, 9min]")
        if self.values is not None and len(self.values) == 0:
            raise _Bad("values is empty", at=("values",))
        if self.csv is not None and not self.column:
            raise _Bad("csv needs a column", "add column: <header of the column>",
                       at=("csv",))
        return self


Distribution = Annotated[
    Exponential | LogNormal | Gamma | Erlang | Deterministic | Uniform | Triangular | Empirical,
    Field(discriminator="dist"),
]
_DIST_CLASSES = {typing.get_args(c.model_fields["dist"].annotation)[0]: c for c in
                 (Exponential, LogNormal, Gamma, Erlang, Deterministic, Uniform, Triangular,
                  Empirical)}


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
            raise _Bad("give exactly one of days or months", "e.g. days: 28")
        per_day = 86400.0 / self.interval
        if abs(per_day - round(per_day)) > 1e-9 or round(per_day) < 1:
            raise _Bad(f"an interval of {_fmt_s(self.interval)} does not divide a day",
                       "use 15min, 30min or 60min", at=("interval",))
        if self.warmup >= self.horizon_s:
            raise _Bad(f"a warm-up of {_fmt_s(self.warmup)} covers the whole "
                       f"{_fmt_s(self.horizon_s)} horizon",
                       "shorten warmup or lengthen the horizon",
                       at=("warmup",))
        return self

    @property
    def end(self) -> dt.date:
        """First day after the horizon (``months`` clamp to the end of shorter months)."""
        if self.days is not None:
            return self.start + dt.timedelta(days=self.days)
        y, m = divmod(self.start.month - 1 + self.months, 12)
        year, month = self.start.year + y, m + 1
        return dt.date(year, month, min(self.start.day, calendar.monthrange(year, month)[1]))

    @property
    def horizon_s(self) -> float:
        return (self.end - self.start).days * 86400.0


class SLA(_Strict):
    """Service-level threshold (live: answer within; deferred: response window) and target."""

    threshold: PositiveDuration
    target: Fraction | None = None


OpeningSpec = Literal["24/7"] | dict[str, str]
_HOURS_HINT = "e.g. {mon-fri: '08:00-20:00', sat: '09:00-13:00', sun: closed}"
_CLOSED = ("closed", "off", "none")


def parse_opening_hours(spec: OpeningSpec) -> tuple[tuple[tuple[float, float], ...], ...]:
    """Per weekday (Monday first) the open spans ``(open_s, close_s)`` within the day.

    ``spec`` is ``"24/7"`` or a mapping of days (``parse_days``) to ``"HH:MM-HH:MM"`` spans,
    comma separated, or ``"closed"``. Days not listed are closed.
    """
    if spec == "24/7":
        return tuple(((0.0, 86400.0),) for _ in range(7))
    week: list[list[tuple[float, float]]] = [[] for _ in range(7)]
    for days, text in spec.items():
        for d in parse_days(days):
            if str(text).strip().lower() in _CLOSED:
                continue
            for span in str(text).split(","):
                if "-" not in span:
                    raise _Bad(f"expected 'HH:MM-HH:MM' or 'closed', got {span.strip()!r}",
                               _HOURS_HINT)
                a, b = span.split("-", 1)
                o, c = _parse_clock_s(a), _parse_clock_s(b)
                if c <= o:
                    raise _Bad(f"closing time before opening time in {span.strip()!r}",
                               "split a night across two days, e.g. '20:00-24:00' and "
                               "'00:00-06:00'")
                week[d].append((o, c))
    return tuple(tuple(sorted(w)) for w in week)


def _check_hours(v: Any) -> Any:
    """Normalise and check ``hours`` so that each mistake is one line at its own key."""
    if isinstance(v, str):
        if v.strip().lower() in ("24/7", "24x7", "always"):
            return "24/7"
        raise _Bad(f"expected '24/7' or a mapping of days to hours, got {_show(v)}",
                   _HOURS_HINT)
    if not isinstance(v, dict):
        raise _Bad(f"expected '24/7' or a mapping of days to hours, got {_show(v)}",
                   _HOURS_HINT)
    out: dict[str, str] = {}
    for days, text in v.items():
        if text is None or text is False:
            text = "closed"
        if not isinstance(days, str):
            raise _Bad(f"expected days such as 'mon-fri', got {_show(days)}", _HOURS_HINT,
                       at=(days,))
        if not isinstance(text, str):
            raise _Bad(f"expected 'HH:MM-HH:MM' or 'closed', got {_show(text)}", _HOURS_HINT,
                       at=(days,))
        try:
            parse_opening_hours({days: text})
        except _Bad as exc:
            raise _Bad(exc.message, exc.hint, at=(days,)) from None
        out[days] = text
    if not any(parse_opening_hours(out)):
        raise _Bad("the channel is closed every day", _HOURS_HINT)
    return out


def _check_windows(v: Any) -> Any:
    """Maintenance windows: like ``hours`` (days -> spans), never "24/7"."""
    if v is None:
        return v
    if isinstance(v, str):
        raise _Bad(f"expected a mapping of days to spans, got {_show(v)}",
                   "e.g. {sun: '02:00-04:00'}")
    out: dict[str, str] = {}
    for days, text in v.items():
        try:
            parse_opening_hours({days: text})
        except _Bad as exc:
            raise _Bad(exc.message, exc.hint, at=(days,)) from None
        out[days] = text
    return out


class Outages(_Strict):
    """Times a channel is unavailable (e.g. telephony down), and what its contacts then do.

    ``availability`` with ``mean_duration``: random outages, an alternating process with
    exponential up and down times whose long-run share of up time is ``availability``
    (sampled day by day: each day starts in the process's stationary state).
    ``scheduled``: maintenance windows by weekday, as opening hours are written.
    ``during``: contacts arriving in an outage are ``lost``, or left as ``voicemail`` in the
    channel's ``voicemail_to`` channel. Contacts already waiting are not affected, nor are
    follow-up contacts (repeats, retrials), which arrive when the channel's hours say.
    """

    availability: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0
    mean_duration: PositiveDuration = 1800.0
    scheduled: Annotated[dict[str, str] | None, BeforeValidator(_check_windows)] = None
    during: Literal["lost", "voicemail"] = "lost"


class Channel(_Strict):
    """A contact channel: ``live`` (patience, abandonment) or ``deferred`` (backlog)."""

    kind: Literal["live", "deferred"]
    patience: Distribution | None = None
    concurrency: Annotated[int, Field(ge=1, le=60)] = 1
    slowdown: Annotated[float, Field(ge=0)] = 0.0
    sla: SLA | None = None
    hours: Annotated[OpeningSpec, BeforeValidator(_check_hours)] = "24/7"
    when_closed: Literal["lost", "voicemail", "callback"] = "lost"
    voicemail_to: str | None = None
    retrial: Retrial | None = None
    outages: Outages | None = None

    @field_validator("concurrency")
    @classmethod
    def _divides(cls, v):
        if 60 % v:
            raise _Bad(f"concurrency {v} does not divide 60",
                       "use 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60")
        return v

    @model_validator(mode="after")
    def _kind(self):
        if self.kind == "deferred" and self.patience is not None:
            raise _Bad("a deferred channel has no patience: its contacts never abandon",
                       "remove patience or make the channel live", at=("patience",))
        if self.kind == "deferred" and self.retrial is not None:
            raise _Bad("a deferred channel has no abandonment, so no retrials",
                       "remove retrial or make the channel live", at=("retrial",))
        if self.outages is not None and self.outages.during == "voicemail" \
                and not self.voicemail_to:
            raise _Bad("outages.during: voicemail needs voicemail_to",
                       "add voicemail_to: <a deferred channel>", at=("outages", "during"))
        if self.when_closed == "voicemail" and not self.voicemail_to:
            raise _Bad("when_closed: voicemail needs voicemail_to",
                       "add voicemail_to: <a deferred channel>", at=("when_closed",))
        return self


class Queue(_Strict):
    """A skill queue; lower ``priority`` is served first; ``weight`` scales its waiting time
    under ``routing.on_free: weighted_wait``."""

    priority: int = 1
    weight: Annotated[float, Field(gt=0)] = 1.0


Severity = Literal["routine", "urgent", "critical"]
#: Severity classes in priority order (critical work is taken first).
SEVERITIES = ("critical", "urgent", "routine")

#: A channel by name, or a mix of channels ``{name: share}`` (shares summing to 1).
ChannelChoice = str | dict[str, Fraction]


def _mix_sums_to_one(value, what: str):
    if isinstance(value, dict):
        if not value:
            raise _Bad(f"the {what} mix is empty", "e.g. {phone: 0.5, email: 0.5}")
        total = sum(value.values())
        if abs(total - 1.0) > 1e-6:
            raise _Bad(f"the {what} shares sum to {total:g}, not 1")
    return value


class Repeat(_Strict):
    """A contact not resolved at first contact comes back after ``delay``.

    ``channel``: the channel of the repeat (a name or a mix ``{email: 0.3, phone: 0.7}``);
    default the channel of the unresolved contact. At most ``max_repeats`` repeats per
    journey; a journey still unresolved then ends unresolved.
    """

    delay: Distribution
    channel: ChannelChoice | None = None
    max_repeats: Annotated[int, Field(ge=0, le=20)] = 2

    @field_validator("channel")
    @classmethod
    def _mix(cls, v):
        return _mix_sums_to_one(v, "channel")


class Escalation(_Strict):
    """Share of handled tier-1 contacts escalated to a higher tier, and their severity.

    ``severity``: one class, or a mix ``{routine: 0.8, urgent: 0.15, critical: 0.05}`` drawn
    once per journey. ``to_tier``: 2 or 3, or by severity (``{critical: 3}``: critical work
    straight to tier 3, the others to tier 2).
    """

    rate: Fraction
    to_tier: Annotated[int, Field(ge=2, le=3)] | dict[
        Severity, Annotated[int, Field(ge=2, le=3)]] = 2
    severity: Severity | dict[Severity, Fraction] = "routine"

    def tier_for(self, severity: str) -> int:
        """The tier an escalation of ``severity`` goes to (``to_tier``, or its entry; 2 when
        a mix does not name the severity)."""
        if isinstance(self.to_tier, int):
            return self.to_tier
        return self.to_tier.get(severity, 2)

    @field_validator("severity")
    @classmethod
    def _mix(cls, v):
        return _mix_sums_to_one(v, "severity")


class Refund(_Strict):
    """Refund or billing adjustment requested on a share of journeys; its amount decides
    who may approve it (``escalation.refund_authority``)."""

    probability: Fraction
    amount: Distribution


class Transfer(_Strict):
    """After service, a share of tier-1 contacts is passed on to skill queue ``to`` on the
    same channel (second line), at most once per journey."""

    to: str
    probability: Fraction


class Retrial(_Strict):
    """An abandoned contact tries again with ``probability`` after ``delay``.

    ``channel``: where the retrial arrives (a name or a mix); default the same channel. At
    most ``max_retrials`` retrials per journey.
    """

    probability: Fraction
    delay: Distribution
    channel: ChannelChoice | None = None
    max_retrials: Annotated[int, Field(ge=0, le=20)] = 3

    @field_validator("channel")
    @classmethod
    def _mix(cls, v):
        return _mix_sums_to_one(v, "channel")


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
    transfer: Transfer | None = None



class ResponseWindow(_Strict):
    """How fast a tier must acknowledge and resolve escalated work of one severity."""

    acknowledge: PositiveDuration | None = None
    resolve: PositiveDuration | None = None


class EscalationTier(_Strict):
    """A tier above the first line: the team taking escalated work as tasks, its windows
    by severity, the work content of a task, and the share it escalates further (tier 2)."""

    team: str | None = None
    windows: dict[Severity, ResponseWindow] = {}
    handle_time: Distribution | None = None
    escalate: Fraction = 0.0


class RefundAuthority(_Strict):
    """Delegated authority: the largest refund each role may approve (currency units)."""

    agent: Annotated[float, Field(ge=0)]
    team_lead: Annotated[float, Field(ge=0)]

    @model_validator(mode="after")
    def _order(self):
        if self.team_lead < self.agent:
            raise ValueError("team_lead authority is below the agent's")
        return self


class EscalationPolicy(_Strict):
    """Escalation tiers, the supervisor window for harm complaints, and refund authority."""

    tiers: dict[Annotated[int, Field(ge=2, le=3)], EscalationTier] = {}
    supervisor_within: PositiveDuration | None = None
    supervisor_for: tuple[Severity, ...] = ("critical",)
    refund_authority: RefundAuthority | None = None


Weekday = Literal[WEEKDAYS]
Month = Literal[MONTHS]


class Demand(_Strict):
    """Arrival volumes: ``daily`` or ``monthly`` per channel, shaped by the factors below."""

    daily: dict[str, Annotated[float, Field(ge=0)]] | None = None
    monthly: dict[str, Annotated[float, Field(ge=0)]] | None = None
    intraday: dict[str, tuple[Annotated[float, Field(ge=0)], ...]] | None = None
    weekday: dict[Weekday, Annotated[float, Field(ge=0)]] | None = None
    month_factor: dict[Month, Annotated[float, Field(ge=0)]] | None = None
    special_days: dict[dt.date, Annotated[float, Field(ge=0)]] | None = None
    overdispersion: Annotated[float, Field(ge=0)] = 0.0
    forecast_csv: str | None = None

    @model_validator(mode="after")
    def _source(self):
        given = [k for k in ("daily", "monthly", "forecast_csv") if getattr(self, k) is not None]
        if len(given) != 1:
            if given:
                raise _Bad(f"{' and '.join(given)} are both given: keep one of daily, "
                           "monthly or forecast_csv", at=(given[-1],))
            raise _Bad("give one of daily, monthly or forecast_csv", "e.g. daily: {phone: 1000}")
        return self


class Skill(_Strict):
    proficiency: Annotated[float, Field(gt=0)] = 1.0
    priority: int = 1


def _skill(v):
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return {"proficiency": v}
    if not isinstance(v, dict):
        raise _Bad(f"expected a proficiency or a mapping, got {_show(v)}",
                   "e.g. 1.0 or {proficiency: 0.8, priority: 2}")
    return v


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
            raise _Bad(f"a shift is at most 24h long, got {_fmt_s(v)}")
        return v

    @model_validator(mode="after")
    def _dates(self):
        if self.from_date and self.until_date and self.until_date < self.from_date:
            raise _Bad(f"until_date {self.until_date} is before from_date {self.from_date}",
                       at=("until_date",))
        return self


class Team(_Strict):
    """Agents with the same skills, channels, tier, speed, cost and shifts."""

    tier: Annotated[int, Field(ge=1, le=3)] = 1
    headcount: Annotated[int, Field(ge=1)] | None = None
    shifts: tuple[Shift, ...] | None = None
    skills: dict[str, Annotated[Skill, BeforeValidator(_skill)]] = {}
    channels: tuple[str, ...] = ()
    speed: Annotated[float, Field(gt=0)] = 1.0
    cost_per_hour: Annotated[float, Field(ge=0)] = 0.0

    @model_validator(mode="after")
    def _staff(self):
        if (self.headcount is None) == (self.shifts is None):
            raise _Bad("give exactly one of headcount (always on duty) or shifts",
                       "e.g. headcount: 10, or shifts: [{start: '08:00', length: 8h, "
                       "agents: 10}]")
        # NOTE: a tier-2 or tier-3 team may only take escalated work (escalation.tiers).
        if not self.skills and self.tier == 1:
            raise _Bad("a team needs at least one skill", "e.g. skills: {general: 1.0}",
                       at=("skills",))
        if not self.channels and self.tier == 1:
            raise _Bad("a team needs at least one channel", "e.g. channels: [phone]",
                       at=("channels",))
        if self.shifts is not None and not self.shifts:
            raise _Bad("a team needs at least one shift", at=("shifts",))
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


class Overflow(_Strict):
    """Contacts of skill queue ``queue`` become eligible to ``teams`` after waiting ``after``.

    An overflow team serves them at ``proficiency`` (default 1.0) on the channels it has.
    """

    queue: str
    after: NonNegDuration
    teams: tuple[str, ...]
    proficiency: Annotated[float, Field(gt=0)] = 1.0

    @model_validator(mode="after")
    def _some(self):
        if not self.teams:
            raise _Bad("an overflow rule needs at least one team", "e.g. teams: [backoffice]",
                       at=("teams",))
        return self


class Routing(_Strict):
    """Routing policies (their semantics: :mod:`sim.model`).

    ``reserve_for_live: N`` keeps N live-capable agents idle before an agent starts deferred
    work (one number for the whole center).
    """

    on_arrival: Literal["longest_idle", "skill_priority", "most_proficient", "random"] = \
        "longest_idle"
    on_free: Literal["queue_priority", "oldest", "sla_urgency", "weighted_wait"] = \
        "queue_priority"
    reserve_for_live: Annotated[int, Field(ge=0)] = 0
    overflow: tuple[Overflow, ...] = ()


class Bound(_Strict):
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _some(self):
        if self.min is None and self.max is None:
            raise _Bad("give min, max or both", "e.g. {max: 20}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise _Bad(f"min ({self.min:g}) is greater than max ({self.max:g})", at=("max",))
        return self


# --------------------------------------------------------------------------- economics
# Costs, pricing tiers and SLA credits (their arithmetic: :mod:`sim.economics`).

Money = Annotated[float, Field(ge=0)]


class Implementation(_Strict):
    """A one-off cost amortised evenly over the first ``months`` calendar months."""

    cost: Money
    months: Annotated[int, Field(ge=1)]


class Onboarding(_Strict):
    """Paid onboarding hours of new agents: ``new_agents_per_year`` or ``attrition_per_year``
    (a share of the agents replaced each year), at ``cost_per_hour`` (default: the agents'
    mean team cost per hour)."""

    hours_per_new_agent: Money
    new_agents_per_year: Money | None = None
    attrition_per_year: Annotated[float, Field(ge=0, le=5)] | None = None
    cost_per_hour: Money | None = None

    @model_validator(mode="after")
    def _one(self):
        if (self.new_agents_per_year is None) == (self.attrition_per_year is None):
            raise _Bad("give exactly one of new_agents_per_year or attrition_per_year",
                       "e.g. attrition_per_year: 0.3 for 30% of the agents a year")
        return self


class Costs(_Strict):
    """Costs beyond the teams' ``cost_per_hour`` (money per month or per year as named).

    Licensed seats: ``seats`` (a number) or ``seats_by_team``; default, every agent.
    """

    overtime_multiplier: Annotated[float, Field(ge=0)] = 1.0
    seats: Annotated[int, Field(ge=0)] | None = None
    seats_by_team: dict[str, Annotated[int, Field(ge=0)]] | None = None
    licences_per_seat_per_month: dict[str, Money] = {}
    lms_per_agent_per_year: Money = 0.0
    onboarding: Onboarding | None = None
    qa_audit_per_year: Money = 0.0
    implementation: Implementation | None = None

    @model_validator(mode="after")
    def _seats(self):
        if self.seats is not None and self.seats_by_team is not None:
            raise _Bad("give seats or seats_by_team, not both", at=("seats_by_team",))
        return self


class CreditRule(_Strict):
    """Credit ``share`` of a month's fee when ``kpi`` misses its tier target by more than
    ``miss_by`` (0: any miss), and has missed it ``months_running`` months in a row (this one
    included); the largest share of a KPI's applying rules counts."""

    kpi: str
    share: Fraction
    miss_by: Annotated[float, Field(ge=0)] = 0.0
    months_running: Annotated[int, Field(ge=1)] = 1


class SlaCredits(_Strict):
    """Credit rules of a tier (or of every tier); a month's credits are capped at
    ``max_share`` of its fee."""

    max_share: Fraction = 1.0
    rules: tuple[CreditRule, ...]

    @model_validator(mode="after")
    def _some(self):
        if not self.rules:
            raise _Bad("give at least one credit rule", "e.g. rules: [{kpi: sla_compliance, "
                       "share: 0.02}]", at=("rules",))
        return self


class TierTarget(Bound):
    """A contractual target of a tier's monthly KPI, over its work on ``channels`` (default:
    all the tier's channels)."""

    channels: tuple[str, ...] | None = None


class PricingTier(_Strict):
    """A tier priced per placement; its work is the contacts of its channels and queues.

    With ``contacts_per_placement`` (on every tier) the tiers are demand segments: the
    demand comes from placements x contacts per placement on the tier's channels, and the
    tier's customers get their own queues with the tier's ``priority`` (:mod:`sim.segments`).
    """

    fee_per_placement: Money
    placements_per_month: Money
    contacts_per_placement: Annotated[float, Field(gt=0)] | None = None
    priority: int | None = None
    channels: tuple[str, ...] | None = None
    queues: tuple[str, ...] | None = None
    contact_types: tuple[str, ...] | None = None
    targets: dict[str, TierTarget] = {}
    sla_credits: SlaCredits | None = None


class Economics(_Strict):
    """Costs, pricing tiers and SLA credits: revenue, credits, cost and margin per month."""

    currency: str = "USD"
    costs: Costs = Costs()
    pricing: dict[str, PricingTier] = {}
    sla_credits: SlaCredits | None = None


def _check_economics(data, add) -> None:
    from sim.economics import check_economics  # late: sim.economics imports this module

    check_economics(data, add)


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
    escalation: EscalationPolicy | None = None
    economics: Economics | None = None
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

_BOOL, _INT, _FLOAT = ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int",
                       "tag:yaml.org,2002:float")
_MERGE = "tag:yaml.org,2002:merge"


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans, no base-60 numbers and lenient dates.

    ``on``/``off``/``yes``/``no`` stay text, ``8:30`` stays text (not 510), ``1e3`` is a
    number, and an impossible date (``2026-02-30``) stays text so the schema reports it with
    its field path and line.
    """


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL, _INT, _FLOAT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Loader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_Loader.add_implicit_resolver(
    _INT, re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)"
                     r"|[-+]?0x[0-9a-fA-F_]+)$"), list("-+0123456789"))
_Loader.add_implicit_resolver(
    _FLOAT, re.compile(r"^(?:[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9_]+)(?:[eE][-+]?[0-9]+)?"
                       r"|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+"
                       r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"), list("-+0123456789."))


def _construct_timestamp(loader, node):
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return str(node.value)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def _load_yaml(text: str, file: str) -> tuple[Any, dict[tuple, int], list[Problem]]:
    """Parse YAML safely; return the data, the line (1-based) of every key path and the
    duplicate keys found (as problems; the last value of a duplicated key wins).

    Raises
    ------
    ScenarioError
        The file is empty or is not YAML at all.
    """
    lines: dict[tuple, int] = {}
    problems: list[Problem] = []
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                raise ScenarioError([Problem(file, 1, "", "the file is empty",
                                             "a scenario starts with 'name:'")])
            walked: set[int] = set()

            def walk(n, path):
                lines.setdefault(path, n.start_mark.line + 1)
                if id(n) in walked:  # an alias: its lines are those of the anchor
                    return
                walked.add(id(n))
                if isinstance(n, yaml.MappingNode):
                    first_at: dict = {}
                    for k, _ in n.value:
                        if k.tag == _MERGE:
                            continue
                        key = _key(loader, k)
                        if key is _UNHASHABLE:
                            continue
                        if key in first_at:
                            problems.append(Problem(
                                file, k.start_mark.line + 1, _fmt_path(path + (key,)),
                                f"duplicate key (first at line {first_at[key]})",
                                "remove one of them; the last one would win"))
                        else:
                            first_at[key] = k.start_mark.line + 1
                    loader.flatten_mapping(n)  # merged keys first, own keys override them
                    pairs: dict = {}
                    for k, v in n.value:
                        key = _key(loader, k)
                        if key is not _UNHASHABLE:
                            pairs[key] = (k, v)
                    for key, (k, v) in pairs.items():
                        lines[path + (key,)] = k.start_mark.line + 1
                        walk(v, path + (key,))
                elif isinstance(n, yaml.SequenceNode):
                    for i, v in enumerate(n.value):
                        lines[path + (i,)] = v.start_mark.line + 1
                        walk(v, path + (i,))

            walk(node, ())
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else None
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context, cmark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and cmark and cmark is not mark:
            hint = f"{context} at line {cmark.line + 1}"
        else:
            hint = "check indentation, colons and quoting"
        raise ScenarioError([Problem(file, line, "", f"not valid YAML: {what}", hint)]) from None
    return data, lines, problems


_UNHASHABLE = object()


def _key(loader, node):
    """A mapping key as constructed, or ``_UNHASHABLE`` (the constructor reports those)."""
    if not isinstance(node, yaml.ScalarNode):
        return _UNHASHABLE
    return loader.construct_object(node, deep=True)


def _fmt_path(path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


# --------------------------------------------------------------------------- schema problems

_DATE_REPR = re.compile(r"datetime\.date\((\d+), (\d+), (\d+)\)")


def _loc_part(part):
    """pydantic renders non-string dict keys (dates) with repr; get the key back."""
    if isinstance(part, str):
        m = _DATE_REPR.fullmatch(part)
        if m:
            return dt.date(*map(int, m.groups()))
    return part


def _is_tag(part) -> bool:
    """Whether a loc part names a union member or validator rather than a key of the file."""
    return isinstance(part, str) and (
        part in _DIST_CLASSES or "[" in part or part[:1].isupper()
        or part.startswith("function-"))


def _line_for(lines: dict[tuple, int], loc) -> tuple[int | None, tuple]:
    """The line of the longest prefix of ``loc`` found in the file, and that clean path."""
    path: tuple = ()
    best = lines.get((), None)
    for part in loc:
        part = _loc_part(part)
        if path + (part,) in lines:
            path = path + (part,)
            best = lines[path]
        elif _is_tag(part):
            continue  # union member / validator tags in pydantic's loc
        else:
            path = path + (part,)
    return best, path


_UNIONS = (Union, types.UnionType)


def _strip(tp):
    """An annotation without ``Annotated`` and ``Optional`` wrappers."""
    while True:
        origin = typing.get_origin(tp)
        if origin is Annotated:
            tp = typing.get_args(tp)[0]
            continue
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if origin in _UNIONS and len(args) == 1 and len(typing.get_args(tp)) == 2:
            tp = args[0]
            continue
        return tp


def _model_at(loc) -> type[BaseModel] | None:
    """The model class that validates the value at pydantic's ``loc`` (tags included)."""
    tp: Any = Scenario
    for part in loc:
        tp = _strip(tp)
        origin = typing.get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if part not in tp.model_fields:
                return None
            tp = tp.model_fields[part].annotation
        elif origin is dict:
            if part == "[key]":
                return None
            tp = typing.get_args(tp)[1]
        elif origin is tuple:
            tp = typing.get_args(tp)[0]
        elif origin in _UNIONS and part in _DIST_CLASSES:
            tp = _DIST_CLASSES[part]
        else:
            return None
    tp = _strip(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _raw_at(data, path):
    """The value the file gives at ``path``, or ``_MISSING``."""
    for part in path:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return _MISSING
    return data


_MISSING = object()


def _describe(err: dict, value: Any, at_key: bool) -> tuple[str, str]:
    """Plain-words message and hint for one pydantic error."""
    kind, ctx = err["type"], err.get("ctx") or {}
    got = _show(value)
    error = ctx.get("error")
    if isinstance(error, _Bad):
        return error.message, error.hint
    if kind in ("value_error", "assertion_error"):
        return str(error or err["msg"]).removeprefix("Value error, "), ""
    if kind == "missing":
        return "required key is missing", ""
    if kind == "literal_error":
        options = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        if not isinstance(value, str):
            return f"expected {_or(options)}, got {got}", ""
        what = "key" if at_key else "value"
        return f"unknown {what} {got}", _suggest(value, options) or f"use {_or(options)}"
    if kind == "union_tag_invalid":
        names = list(_DIST_CLASSES)
        return (f"unknown distribution {_show(ctx.get('tag'))}",
                _suggest(ctx.get("tag"), names) or f"use {_or(names)}")
    if kind == "union_tag_not_found":
        return "a distribution needs 'dist'", "e.g. {dist: exponential, mean: 5min}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"expected a whole number, got {got}", ""
    if kind in ("float_parsing", "float_type"):
        return f"expected a number, got {got}", ""
    if kind == "finite_number":
        return f"expected a finite number, got {got}", ""
    if kind == "string_type":
        hint = "put it in quotes" if isinstance(value, (int, float, bool, dt.date)) else ""
        return f"expected text, got {got}", hint
    if kind in ("dict_type", "model_type", "model_attributes_type", "mapping_type"):
        return f"expected a mapping of keys to values, got {got}", "e.g. {key: value}"
    if kind in ("list_type", "tuple_type", "iterable_type"):
        return f"expected a list, got {got}", "e.g. [a, b] or one '- item' per line"
    if kind.startswith("date") or kind.startswith("datetime"):
        hint = "drop the time of day" if kind == "date_from_datetime_inexact" else \
            (str(error) if isinstance(error, str) else "")
        return f"expected a date YYYY-MM-DD, got {got}", hint
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = ctx.get(kind.replace("greater_than_equal", "ge").replace("greater_than", "gt")
                        .replace("less_than_equal", "le").replace("less_than", "lt"))
        if kind == "greater_than_equal":
            words = "must not be negative" if bound == 0 else f"must be at least {_show(bound)}"
        elif kind == "greater_than":
            words = f"must be greater than {_show(bound)}"
        elif kind == "less_than_equal":
            words = f"must be at most {_show(bound)}"
        else:
            words = f"must be less than {_show(bound)}"
        hint = ""
        if kind == "less_than_equal" and bound == 1 and isinstance(value, (int, float)) \
                and 1 < value <= 100:
            hint = f"a fraction: write {value / 100:g} for {value:g}%"
        return f"{words}, got {got}", hint
    if kind == "invalid_key":
        return "a key must be text", "put it in quotes"
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length')} item(s)", ""
    if kind == "too_long":
        return f"takes at most {ctx.get('max_length')} item(s)", ""
    msg = err["msg"]
    if msg.startswith("Input should be "):
        msg = "expected " + msg.removeprefix("Input should be ") + f", got {got}"
    return msg, ""


def _pydantic_problems(exc: ValidationError, lines, file, data=None) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = tuple(_loc_part(p) for p in err["loc"])
        try:
            problems.append(_problem(err, loc, lines, file, data))
        except Exception:  # noqa: BLE001 - a wording bug must not hide the problem itself
            problems.append(Problem(file, _line_for(lines, loc)[0],
                                    ".".join(map(str, loc)), err["msg"]))
    return problems


def _problem(err, loc, lines, file, data) -> Problem:
    line, path = _line_for(lines, loc)
    at_key = bool(loc) and loc[-1] == "[key]"
    value = err.get("input")
    if not at_key and err["type"] not in ("missing", "extra_forbidden"):
        raw = _raw_at(data, path)
        value = value if raw is _MISSING else raw
    error = (err.get("ctx") or {}).get("error")
    if isinstance(error, _Bad) and error.at:
        path = path + error.at
        line = lines.get(path, line)
    if err["type"] == "extra_forbidden":
        model = _model_at(loc[:-1])
        allowed = list(model.model_fields) if model else []
        return Problem(file, line, _fmt_path(path), f"unknown key '{path[-1]}'",
                       _suggest(path[-1], allowed) or (
                           f"allowed: {', '.join(allowed)}" if allowed else ""))
    msg, hint = _describe(err, value, at_key)
    return Problem(file, line, _fmt_path(path), msg, hint)


# --------------------------------------------------------------------------- cross-checks


@dataclass
class _View:
    """What the cross-checks read: the validated parts of a scenario.

    For a valid schema this is the whole :class:`Scenario`. When some entries failed the
    schema, it holds the entries that passed, and ``complete`` names the sections whose every
    entry passed, so that a check such as "no team serves this queue" only runs when it cannot
    be an echo of a problem already reported.
    """

    horizon: Horizon | None
    channels: dict[str, Channel]
    queues: dict[str, Queue] | None
    contact_types: dict[str, ContactType]
    demand: Demand | None
    teams: dict[str, Team]
    targets: dict[str, dict[str, Bound]]
    complete: frozenset[str]
    escalation: EscalationPolicy | None = None

    @classmethod
    def of(cls, s: Scenario) -> _View:
        return cls(s.horizon, dict(s.channels), s.queues, dict(s.contact_types), s.demand,
                   dict(s.teams), dict(s.targets),
                   frozenset(("horizon", "channels", "queues", "contact_types", "demand",
                              "teams", "targets")), s.escalation)

    @classmethod
    def partial(cls, data: dict) -> _View:
        complete: set[str] = set()

        def one(key, model):
            try:
                value = model.model_validate(data.get(key, _MISSING))
            except ValidationError:
                return None
            complete.add(key)
            return value

        def each(key, model):
            raw = data.get(key)
            if raw is None and not Scenario.model_fields[key].is_required():
                complete.add(key)
            out = {}
            for name, value in _dict(raw).items():
                try:
                    out[name] = model.model_validate(value)
                except ValidationError:
                    pass
            if raw and len(out) == len(raw) and all(isinstance(n, str) for n in raw):
                complete.add(key)
            return out

        queues = each("queues", Queue) if data.get("queues") is not None else None
        targets = {g: _valid_bounds(b) for g, b in _dict(data.get("targets")).items()}
        return cls(one("horizon", Horizon), each("channels", Channel), queues,
                   each("contact_types", ContactType), one("demand", Demand),
                   each("teams", Team), targets, frozenset(complete),
                   one("escalation", EscalationPolicy) if data.get("escalation") else None)


def _valid_bounds(raw) -> dict[str, Bound]:
    out = {}
    for kpi, b in _dict(raw).items():
        try:
            out[kpi] = Bound.model_validate(b)
        except ValidationError:
            pass
    return out


def _names(raw) -> list[str]:
    return [k for k in raw if isinstance(k, str)] if isinstance(raw, dict) else []


def _dict(raw) -> dict:
    return raw if isinstance(raw, dict) else {}


def _cross_check(data: dict, v: _View, lines, file, base_dir: Path | None = None
                 ) -> list[Problem]:
    """Problems no single field can see: names that must refer to each other, shares, etc.

    Names are checked on the file's own data (so a reference is checked even when the entry
    it sits in failed the schema); values are checked on the validated entries in ``v``.
    """
    out: list[Problem] = []

    def add(path, msg, hint=""):
        out.append(Problem(file, _line_for(lines, path)[0], _fmt_path(path), msg, hint))

    raw_channels, raw_cts, raw_teams = (_dict(data.get(k)) for k in
                                        ("channels", "contact_types", "teams"))
    for key in ("channels", "contact_types", "teams"):
        if isinstance(data.get(key), dict) and not data[key]:
            add((key,), f"{key} is empty", f"define at least one entry under {key}")
    channels = _names(raw_channels)
    if _dict(data.get("queues")):
        queues = _names(data["queues"])
    else:
        queues = list(dict.fromkeys(ct["queue"] for ct in raw_cts.values() if isinstance(
            ct, dict) and isinstance(ct.get("queue"), str)))

    for key in ("channels", "queues"):
        if "all" in _dict(data.get(key)):
            add((key, "all"), f"'all' cannot name one of the {key}",
                "'all' names the whole center in results; choose another name")
    if "all" in queues and "all" not in _dict(data.get("queues")):
        for name, ct in raw_cts.items():
            if _dict(ct).get("queue") == "all":
                add(("contact_types", name, "queue"), "'all' cannot name a queue",
                    "'all' names the whole center in results; choose another name")
    tier_of = {t: _dict(team).get("tier", 1) for t, team in raw_teams.items()}
    for level, tier in _dict(_dict(data.get("escalation")).get("tiers")).items():
        team = _dict(tier).get("team")
        if isinstance(team, str) and team in tier_of and str(tier_of[team]) != str(level):
            add(("escalation", "tiers", level, "team"),
                f"team '{team}' is tier {tier_of[team]}, not tier {level}",
                f"set teams.{team}.tier: {level}")

    # ---- references by name (from the file itself)
    typo_queues: set[str] = set()
    typo_channels: set[str] = set()

    def ref(path, name, known, what, typos=None):
        if not isinstance(name, str) or name in known:
            return
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        if typos is not None and close:
            typos.add(close[0])
        add(path, f"unknown {what} '{name}'",
            f"did you mean '{close[0]}'?" if close else
            (f"known: {', '.join(known)}" if known else f"no {what} is defined"))

    if channels:
        for name, ch in raw_channels.items():
            ref(("channels", name, "voicemail_to"), _dict(ch).get("voicemail_to"), channels,
                "channel")
        for name, ct in raw_cts.items():
            for chname in _dict(_dict(ct).get("share")):
                ref(("contact_types", name, "share", chname), chname, channels, "channel")
            for kind in ("repeat",):
                choice = _dict(_dict(ct).get(kind)).get("channel")
                for key in (_dict(choice) if isinstance(choice, dict) else [choice]):
                    ref(("contact_types", name, kind, "channel") + (
                        (key,) if isinstance(choice, dict) else ()), key, channels, "channel")
        for name, ch in raw_channels.items():
            choice = _dict(_dict(ch).get("retrial")).get("channel")
            for key in (_dict(choice) if isinstance(choice, dict) else [choice]):
                ref(("channels", name, "retrial", "channel") + (
                    (key,) if isinstance(choice, dict) else ()), key, channels, "channel")
        demand = _dict(data.get("demand"))
        for vol_key in ("daily", "monthly"):
            for chname in _dict(demand.get(vol_key)):
                ref(("demand", vol_key, chname), chname, channels, "channel")
        for chname in _dict(demand.get("intraday")):
            ref(("demand", "intraday", chname), chname, [*channels, "default"], "channel")
        for tname, team in raw_teams.items():
            team_channels = _dict(team).get("channels")
            for i, chname in enumerate(team_channels if isinstance(team_channels, list)
                                       else ()):
                ref(("teams", tname, "channels", i), chname, channels, "channel",
                    typo_channels)
        for level, tier in _dict(_dict(data.get("escalation")).get("tiers")).items():
            ref(("escalation", "tiers", level, "team"), _dict(tier).get("team"),
                list(raw_teams), "team")
        for group in _dict(data.get("targets")):
            ref(("targets", group), group, [*channels, "all"], "channel")
    for name, ct in raw_cts.items():
        ref(("contact_types", name, "queue"), _dict(ct).get("queue"), queues, "queue")
        ref(("contact_types", name, "transfer", "to"),
            _dict(_dict(ct).get("transfer")).get("to"), queues, "queue")
    _check_journeys(v, add)
    raw_overflow = _dict(data.get("routing")).get("overflow")
    seen_overflow: dict[str, int] = {}
    for i, rule in enumerate(raw_overflow if isinstance(raw_overflow, list) else ()):
        rule = _dict(rule)
        qname = rule.get("queue")
        ref(("routing", "overflow", i, "queue"), qname, queues, "queue")
        if isinstance(qname, str) and qname in seen_overflow:
            add(("routing", "overflow", i, "queue"),
                f"queue '{qname}' already has an overflow rule (overflow[{seen_overflow[qname]}])",
                "give one rule per queue, listing all its teams")
        elif isinstance(qname, str):
            seen_overflow[qname] = i
        teams_ = rule.get("teams")
        for j, tname in enumerate(teams_ if isinstance(teams_, list) else ()):
            ref(("routing", "overflow", i, "teams", j), tname, list(raw_teams), "team")
            if isinstance(tname, str) and isinstance(qname, str) and \
                    qname in _dict(_dict(raw_teams.get(tname)).get("skills")):
                add(("routing", "overflow", i, "teams", j),
                    f"team '{tname}' already has the skill '{qname}': overflow adds nothing",
                    "list teams without that skill")
    for tname, team in raw_teams.items():
        for q in _dict(_dict(team).get("skills")):
            ref(("teams", tname, "skills", q), q, queues, "queue", typo_queues)

    # ---- channels
    for name, ch in v.channels.items():
        if ch.kind == "deferred" and ch.concurrency != 1:
            add(("channels", name, "concurrency"), "concurrency applies to live channels only",
                "remove it: a deferred contact takes an agent's whole capacity")
        if ch.slowdown > 0 and ch.concurrency == 1:
            add(("channels", name, "slowdown"), "slowdown applies only with concurrency > 1",
                "set concurrency or remove slowdown")
        if ch.voicemail_to is not None and ch.when_closed != "voicemail" and (
                ch.outages is None or ch.outages.during != "voicemail"):
            add(("channels", name, "voicemail_to"),
                "voicemail_to is set but closed-hours contacts are lost",
                "add when_closed: voicemail")
        target = v.channels.get(ch.voicemail_to) if ch.voicemail_to else None
        if target is not None and target.kind != "deferred":
            add(("channels", name, "voicemail_to"),
                f"'{ch.voicemail_to}' is not a deferred channel",
                "voicemail waits in a backlog: point it at an email-like channel")

    # ---- contact types: shares of each channel sum to 1
    if "contact_types" in v.complete:
        for chname in channels:
            parts = [(n, ct.share[chname]) for n, ct in v.contact_types.items()
                     if ct.share.get(chname, 0.0) > 0]
            total = sum(p for _, p in parts)
            if parts and abs(total - 1.0) > 1e-6:
                add(("contact_types", parts[0][0], "share", chname),
                    f"shares of channel '{chname}' sum to {total:.4g}, not 1",
                    " + ".join(f"{n} {p:g}" for n, p in parts))
            volumes = (v.demand.daily or v.demand.monthly or {}) if v.demand else {}
            if not parts and volumes.get(chname, 0) > 0:
                vol_key = "daily" if v.demand.daily is not None else "monthly"
                add(("demand", vol_key, chname),
                    f"channel '{chname}' has demand but no contact type has a share of it",
                    f"add share: {{{chname}: 1.0}} to a contact type")

    # ---- demand
    if v.demand is not None and v.horizon is not None:
        n_per_day = round(86400.0 / v.horizon.interval)
        for key, weights in (v.demand.intraday or {}).items():
            if len(weights) not in (24, n_per_day):
                give = "24 (hourly)" + (f" or {n_per_day} (one per interval)"
                                        if n_per_day != 24 else "")
                add(("demand", "intraday", key), f"{len(weights)} weights, expected {give}")
            elif sum(weights) <= 0:
                add(("demand", "intraday", key), "the weights sum to 0",
                    "give the relative volume of each hour")

    # ---- teams: shifts inside the horizon; every used (queue, channel) served
    if v.horizon is not None:
        h = v.horizon
        for tname, team in v.teams.items():
            for i, sh in enumerate(team.shifts or ()):
                first = max(h.start, sh.from_date or h.start)
                last = min(h.end - dt.timedelta(days=1), sh.until_date or h.end)
                days = [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]
                if not any(d.weekday() in sh.days for d in days):
                    add(("teams", tname, "shifts", i),
                        "this shift never falls inside the horizon",
                        f"the horizon runs from {h.start} to {h.end - dt.timedelta(days=1)}")
    if "teams" in v.complete:
        served = {(q, c) for t in v.teams.values() for q in t.skills for c in t.channels}
        skills_used = {q for t in v.teams.values() for q in t.skills}
        listed = set(_names(data.get("queues"))) if _dict(data.get("queues")) else set()
        for q in _names(data.get("queues")):
            if q not in skills_used and q not in typo_queues:
                add(("queues", q), f"no team has the skill '{q}'",
                    "add it to a team's skills")
        for name, ct in v.contact_types.items():
            if ct.queue not in queues or ct.queue in typo_queues:
                continue
            if ct.queue not in skills_used:
                if ct.queue not in listed:
                    add(("contact_types", name, "queue"), f"no team has the skill '{ct.queue}'",
                        "add it to a team's skills")
                continue
            for chname, share in ct.share.items():
                if share > 0 and chname in channels and chname not in typo_channels \
                        and (ct.queue, chname) not in served:
                    add(("contact_types", name, "share", chname),
                        f"no team serves queue '{ct.queue}' on channel '{chname}'",
                        f"give a team with the skill '{ct.queue}' the channel '{chname}'")
        # contacts left as voicemail wait on the deferred channel in their own queue
        for src, ch in v.channels.items():
            if ch.when_closed != "voicemail" or ch.voicemail_to not in v.channels or \
                    v.channels[ch.voicemail_to].kind != "deferred" or \
                    ch.voicemail_to in typo_channels:
                continue
            unserved = [q for q in dict.fromkeys(
                ct.queue for ct in v.contact_types.values() if ct.share.get(src, 0) > 0)
                if q in skills_used and q not in typo_queues
                and (q, ch.voicemail_to) not in served]
            for q in unserved:
                add(("channels", src, "voicemail_to"),
                    f"no team serves queue '{q}' on channel '{ch.voicemail_to}', where "
                    f"voicemail left on '{src}' waits",
                    f"give a team with the skill '{q}' the channel '{ch.voicemail_to}'")

    # ---- targets name KPIs
    if v.targets:
        try:
            from sim.kpi import KPI_KEYS  # late import: kpi imports numpy and pandas
        except ModuleNotFoundError as exc:
            if exc.name != "sim.kpi":
                raise
            KPI_KEYS = None  # noqa: N806 - sim.kpi not built yet: KPI names unchecked
        for group, bounds in v.targets.items():
            for kpi in bounds:
                if KPI_KEYS is not None and kpi not in KPI_KEYS:
                    add(("targets", group, kpi), f"unknown KPI '{kpi}'",
                        _suggest(kpi, KPI_KEYS))
    _check_economics(data, add)  # economics: names and credit rules (sim.economics)

    # ---- files the scenario reads
    if base_dir is not None:
        out.extend(_check_files(v, lines, file, base_dir))
    return out


def escalation_tiers(contact_types: dict, escalation: EscalationPolicy | None
                     ) -> dict[int, tuple]:
    """The tiers (2, 3) that receive escalated work, each with the key path of the first
    entry sending it some: escalations by severity (``to_tier``), refunds above the agent's
    authority (tiers 2 and 3, when ``escalation.refund_authority`` is set), and tier 2's
    further escalation to tier 3."""
    tiers: dict[int, tuple] = {}
    for name, ct in contact_types.items():
        if ct.escalation is not None and ct.escalation.rate > 0:
            sev = ct.escalation.severity
            for v in [sev] if isinstance(sev, str) else [k for k, x in sev.items() if x > 0]:
                tiers.setdefault(ct.escalation.tier_for(v), ("contact_types", name, "escalation"))
        if ct.refund is not None and ct.refund.probability > 0 and escalation is not None \
                and escalation.refund_authority is not None:
            tiers.setdefault(2, ("contact_types", name, "refund"))
            tiers.setdefault(3, ("contact_types", name, "refund"))
    if escalation is not None and 2 in tiers and 2 in escalation.tiers \
            and escalation.tiers[2].escalate > 0:
        tiers.setdefault(3, ("escalation", "tiers", 2, "escalate"))
    return tiers


def _check_journeys(v: _View, add) -> None:
    """Journey rules that need several sections: escalated work needs its tier's team and
    task handle time, refunds need the authority thresholds, the escalation channel's name
    is reserved, and a transfer goes to another queue."""
    escalation = v.escalation
    for name, ct in v.contact_types.items():
        if ct.refund is not None and ct.refund.probability > 0 and (
                escalation is None or escalation.refund_authority is None):
            add(("contact_types", name, "refund"), "refunds need escalation.refund_authority",
                "e.g. escalation: {refund_authority: {agent: 50, team_lead: 500}}")
    tiers_needed = escalation_tiers(v.contact_types, escalation)
    if tiers_needed and "escalation" in v.channels:
        add(("channels", "escalation"), "the channel name 'escalation' is reserved",
            "escalated work is simulated on a channel of that name; rename this one")
    for level, where in sorted(tiers_needed.items()):
        tier = escalation.tiers.get(level) if escalation is not None else None
        if tier is None or tier.team is None:
            add(where, f"escalated work goes to tier {level}, which has no team",
                f"add escalation.tiers.{level} with a tier-{level} team and a handle_time")
        elif tier.handle_time is None:
            add(("escalation", "tiers", level), f"tier {level} needs handle_time for its tasks",
                "e.g. handle_time: {dist: lognormal, mean: 20min, cv: 0.8}")
    for name, ct in v.contact_types.items():
        if ct.transfer is not None and ct.transfer.to == ct.queue:
            add(("contact_types", name, "transfer", "to"),
                "a transfer goes to another queue", f"'{ct.queue}' is the contact's own queue")


def _distributions(v: _View):
    """``(path, distribution)`` for every distribution in the validated entries."""
    for name, ch in v.channels.items():
        if ch.patience is not None:
            yield ("channels", name, "patience"), ch.patience
    for name, ct in v.contact_types.items():
        base = ("contact_types", name)
        yield base + ("handle_time",), ct.handle_time
        if ct.wrap_up is not None:
            yield base + ("wrap_up",), ct.wrap_up
        if ct.repeat is not None:
            yield base + ("repeat", "delay"), ct.repeat.delay
    for name, ch in v.channels.items():
        if ch.retrial is not None:
            yield ("channels", name, "retrial", "delay"), ch.retrial.delay
    if v.escalation is not None:
        for level, tier in v.escalation.tiers.items():
            if tier.handle_time is not None:
                yield ("escalation", "tiers", level, "handle_time"), tier.handle_time
        if ct.refund is not None:
            yield base + ("refund", "amount"), ct.refund.amount


def _check_files(v: _View, lines, file, base_dir: Path) -> list[Problem]:
    """CSV files named by the scenario exist (relative to its folder) and have the column."""
    out: list[Problem] = []
    wanted: list[tuple[tuple, str, str | None]] = []
    if v.demand is not None and v.demand.forecast_csv is not None:
        wanted.append((("demand", "forecast_csv"), v.demand.forecast_csv, None))
    for path, d in _distributions(v):
        if isinstance(d, Empirical) and d.csv is not None:
            wanted.append((path + ("csv",), d.csv, d.column))
    for path, name, column in wanted:
        where = base_dir / name
        try:
            with open(where, newline="", encoding="utf-8") as f:
                header = next(csv.reader(f), [])
        except OSError as exc:
            out.append(Problem(file, _line_for(lines, path)[0], _fmt_path(path),
                               f"cannot read '{name}': {exc.strerror}",
                               f"paths are relative to {base_dir}"))
            continue
        if column is not None and column not in header:
            cpath = path[:-1] + ("column",)
            out.append(Problem(file, _line_for(lines, cpath)[0], _fmt_path(cpath),
                               f"no column '{column}' in '{name}'",
                               _suggest(column, header) or f"columns: {', '.join(header)}"))
    return out


def _sorted(problems: list[Problem]) -> list[Problem]:
    """By line, without repeats (pydantic may report one place once per union member)."""
    unique = list({str(p): p for p in problems}.values())
    return sorted(unique, key=lambda p: (p.line is None, p.line or 0))


def parse_scenario(text: str, file: str = "<scenario>", *,
                   base_dir: str | Path | None = None) -> Scenario:
    """Validate scenario text; raise :class:`ScenarioError` listing every problem.

    Parameters
    ----------
    text : str
        The YAML text.
    file : str
        The name used in messages.
    base_dir : path, optional
        Folder that relative CSV paths are resolved against; when given, those files are
        checked too.
    """
    data, lines, problems = _load_yaml(text, file)
    if data is None:
        raise ScenarioError([Problem(file, 1, "", "the file is empty",
                                     "a scenario starts with 'name:'")])
    if not isinstance(data, dict):
        raise ScenarioError([Problem(file, lines.get((), 1), "",
                                     "a scenario is a mapping of keys to values",
                                     "start with 'name:'")])
    scenario = None
    try:
        scenario = Scenario.model_validate(data)
        view = _View.of(scenario)
    except ValidationError as exc:
        problems += _pydantic_problems(exc, lines, file, data)
        view = _View.partial(data)
    base = Path(base_dir) if base_dir is not None else None
    if scenario is not None:
        problems += _cross_check(data, view, lines, file, base)
    else:
        try:
            problems += _cross_check(data, view, lines, file, base)
        except Exception:  # noqa: BLE001 - checks on a half-valid file are best effort
            pass
    if problems:
        raise ScenarioError(_sorted(problems))
    scenario._file = file
    scenario._lines = lines
    from sim.segments import uses_segments

    if uses_segments(scenario):
        from sim.segments import expand_tiers

        problems = _check_segments(scenario, lines, file)
        if problems:
            raise ScenarioError(_sorted(problems))
        expanded = expand_tiers(scenario)
        expanded._file, expanded._lines = file, lines
        expanded._base_dir = scenario._base_dir
        return expanded
    return scenario


def _check_segments(s: Scenario, lines, file) -> list[Problem]:
    """Pricing tiers as demand segments need every tier's volume and a channel mix."""
    out: list[Problem] = []

    def add(path, msg, hint=""):
        out.append(Problem(file, _line_for(lines, path)[0], _fmt_path(path), msg, hint))

    pricing = s.economics.pricing
    for name, tier in pricing.items():
        path = ("economics", "pricing", name)
        if tier.contacts_per_placement is None:
            add(path, "contacts_per_placement is missing: when one tier states it, every tier "
                "is a demand segment", "give each tier its contacts_per_placement")
        elif tier.queues is not None or tier.contact_types is not None:
            add(path, "a demand-segment tier takes its own queues: drop queues and "
                "contact_types", "its work is its customers' contacts on its channels")
    if s.demand.monthly is None:
        add(("demand",), "pricing tiers with contacts_per_placement need demand.monthly: it "
            "gives the channel mix (the tiers give the volume)",
            "e.g. demand: {monthly: {phone: 45, email: 30, portal: 25}}")
    else:
        for name, tier in pricing.items():
            chans = [c for c in (tier.channels or s.channels)
                     if s.demand.monthly.get(c, 0) > 0]
            if tier.contacts_per_placement is not None and not chans:
                add(("economics", "pricing", name, "channels"),
                    "none of the tier's channels has demand in demand.monthly",
                    "demand.monthly gives the channel mix of the tiers")
    return out


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario YAML file.

    Relative CSV paths inside the scenario (forecast, empirical distributions) are resolved
    against the scenario file's folder, and checked to exist.

    Raises
    ------
    ScenarioError
        Every problem, each with file, line, field path and hint.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ScenarioError([Problem(str(path), None, "",
                                     f"cannot read file: {exc.strerror}")]) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError([Problem(str(path), None, "",
                                     f"not UTF-8 text (byte {exc.start})",
                                     "save the file as UTF-8")]) from None
    scenario = parse_scenario(text, str(path), base_dir=path.resolve().parent)
    scenario._base_dir = path.resolve().parent
    return scenario


def scenario_base_dir(scenario: Scenario) -> Path:
    """Folder of the scenario file (relative CSV paths start here); the cwd if parsed text."""
    return scenario._base_dir or Path.cwd()


def json_schema() -> dict:
    """The JSON Schema of scenario files (for editors' autocompletion)."""
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "ccsim scenario"
    return schema


def unsimulated(scenario: Scenario) -> list[str]:
    """Parts of the scenario the engines accept but do not simulate (said, not hidden).

    Every part of the vocabulary is simulated today (customer journeys arrived with issue
    4), so this is empty; it stays the one place a future partial feature announces itself
    on ``validate`` and ``run`` and in ``summary.json`` under ``notes``.
    """
    del scenario
    return []
