"""The only way to read survey results: pages, the API, the CSV export and the feedback loop.

Rules, enforced here and tested here:

- Results exist only for closed rounds, so nobody can watch a score move as one answer arrives.
- A group's scores show only from the round's threshold of respondents (5 by default, 3 to 10);
  comments only from 10 respondents.
- Differencing: a group is refused when its wider group (the same filters minus one) is hidden,
  or when showing it would leave the hidden rest of that wider group with fewer than the
  threshold. Hidden rests are made safe by also hiding the smallest shown sibling (secondary
  suppression), decided from the whole company's counts, never from what the reader may see,
  so every reader and every filter combination sees the same suppression.
- Several rounds combine only where each round could be shown on its own, so "these rounds
  minus that round" reveals nothing.
- Managers read only their own teams' aggregates and cannot filter (or export) comments.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from sqlalchemy import case, func, or_, select

from touchpoints.extensions import db
from touchpoints.people.access import report_ids_query
from touchpoints.people.models import Employee, LifecycleStatus, Team
from touchpoints.surveys.cube import ALL, DIMENSIONS, LETTERS, NONE, Node, pattern_of
from touchpoints.surveys.models import (
    AGREEMENT_LABELS,
    COMMENT_MIN_GROUP_SIZE,
    QuestionKind,
    RoundStatus,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
    SurveyResultCell,
    SurveyRound,
    TenureBand,
)

DIMENSION_LABELS = {"team": "Team", "stage": "Lifecycle stage", "tenure": "Tenure"}
NONE_LABELS = {"team": "Other teams (each too small to report) or no team",
               "stage": "Other stages (each too small to report)",
               "tenure": "Other tenure (too small to report, or no start date)"}
RESPONSE_COLUMNS = {"team": SurveyResponse.team_id, "stage": SurveyResponse.stage,
                    "tenure": SurveyResponse.tenure_band}


class ResultsUnavailable(Exception):
    """The rounds asked for have no results (not closed yet, or from different surveys)."""


class FilterError(ValueError):
    """A filter or breakdown that makes no sense; errors maps the parameter to the reason."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class Refusal:
    """Why something is not shown, in words for the reader; `code` is stable for the API."""

    code: str
    message: str


@dataclass(frozen=True)
class Scope:
    """What a reader may see: which teams (None: all), and what they may do with comments."""

    team_ids: frozenset[int] | None
    may_filter_comments: bool

    @property
    def sees_everything(self) -> bool:
        return self.team_ids is None

    def allows(self, node: Node) -> bool:
        """Whether this reader may see a node at all (whatever the thresholds say)."""
        if self.team_ids is None:
            return True
        return node[0] not in (ALL, NONE) and int(node[0]) in self.team_ids


COMPANY_SCOPE = Scope(None, True)


def teams_led_by(employee_id: int) -> set[int]:
    """Teams in which everyone else reports to this person, directly or indirectly."""
    reports = report_ids_query(employee_id).subquery()
    rows = db.session.execute(
        select(Employee.team_id, func.count(),
               func.sum(case((Employee.id.in_(select(reports.c.id)), 1), else_=0)))
        .where(Employee.team_id.is_not(None), Employee.deactivated_at.is_(None),
               Employee.id != employee_id)
        .group_by(Employee.team_id)
    ).all()
    return {team_id for team_id, total, led in rows if led and led == total}


def scope_for(user) -> Scope:
    """HR partners see every group and filter comments; managers see the teams they lead."""
    if user.is_hr:
        return COMPANY_SCOPE
    if user.is_manager:
        return Scope(frozenset(teams_led_by(user.employee_id)), False)
    return Scope(frozenset(), False)


# ---------------------------------------------------------------------------------------------
# The suppression rules over one round's counts


def _parent(node: Node, dim: int) -> Node:
    return tuple(ALL if i == dim else v for i, v in enumerate(node))  # type: ignore[return-value]


@dataclass(frozen=True)
class _Reason:
    code: str  # too_few, difference, wider_group_hidden
    parent: Node | None = None


class Lattice:
    """Counts of one round's groups and the threshold rules over them (memoised)."""

    def __init__(self, counts: Mapping[Node, int], k: int):
        self.counts = counts
        self.k = k
        self._children: dict[tuple[Node, int], list[Node]] = defaultdict(list)
        for node in counts:
            for dim in range(len(DIMENSIONS)):
                if node[dim] != ALL:
                    self._children[(_parent(node, dim), dim)].append(node)
        self._kept: dict[tuple[Node, int], frozenset[Node]] = {}
        self._verdicts: dict[Node, _Reason | None] = {}

    def count(self, node: Node) -> int:
        return self.counts.get(node, 0)

    def kept(self, parent: Node, dim: int) -> frozenset[Node]:
        """The children of parent along dim that may show, after primary and secondary suppression."""
        key = (parent, dim)
        if key not in self._kept:
            children = self._children.get(key, [])
            shown = sorted((c for c in children if self.count(c) >= self.k),
                           key=lambda c: (self.count(c), c))
            hidden = self.count(parent) - sum(self.count(c) for c in shown)
            # The hidden rest must be nobody or a crowd; otherwise hide the smallest shown group too.
            while 0 < hidden < self.k and shown:
                hidden += self.count(shown.pop(0))
            self._kept[key] = frozenset(shown)
        return self._kept[key]

    def verdict(self, node: Node) -> _Reason | None:
        """None when the node may show; otherwise why not."""
        if node not in self._verdicts:
            self._verdicts[node] = self._judge(node)
        return self._verdicts[node]

    def _judge(self, node: Node) -> _Reason | None:
        if self.count(node) < self.k:
            return _Reason("too_few")
        concrete = [dim for dim in range(len(DIMENSIONS)) if node[dim] != ALL]
        # The most direct explanation first: this group against its own wider group.
        for dim in concrete:
            if node not in self.kept(_parent(node, dim), dim):
                return _Reason("difference", _parent(node, dim))
        for dim in concrete:
            if self.verdict(_parent(node, dim)) is not None:
                return _Reason("wider_group_hidden", _parent(node, dim))
        return None


# ---------------------------------------------------------------------------------------------
# What readers get


@dataclass(frozen=True)
class Bucket:
    value: str
    label: str
    count: int
    share: float


@dataclass(frozen=True)
class Enps:
    score: int
    promoters: float
    passives: float
    detractors: float
    n: int


@dataclass
class QuestionResult:
    question: SurveyQuestion
    n: int = 0
    refusal: Refusal | None = None
    mean: float | None = None
    favourable: float | None = None
    enps: Enps | None = None
    buckets: list[Bucket] = field(default_factory=list)

    @property
    def shown(self) -> bool:
        return self.refusal is None


@dataclass
class GroupResult:
    node: Node
    label: str
    invited: int
    respondents: int
    refusal: Refusal | None = None
    questions: list[QuestionResult] = field(default_factory=list)
    connection: float | None = None
    enps: Enps | None = None
    comments: int = 0

    @property
    def shown(self) -> bool:
        return self.refusal is None

    @property
    def participation(self) -> float | None:
        return self.respondents / self.invited if self.invited else None

    @property
    def team_id(self) -> int | None:
        return int(self.node[0]) if self.node[0] not in (ALL, NONE) else None


@dataclass
class Results:
    rounds: list[SurveyRound]
    filters: dict[str, str]
    breakdown: str | None
    slice: GroupResult
    groups: list[GroupResult]
    threshold: int

    @property
    def refusal(self) -> Refusal | None:
        return self.slice.refusal


@dataclass
class TrendPoint:
    round: SurveyRound
    group: GroupResult


@dataclass
class Comment:
    round_label: str
    prompt: str
    text: str


@dataclass
class Comments:
    refusal: Refusal | None
    items: list[Comment]
    total: int


# ---------------------------------------------------------------------------------------------
# Labels


class Labels:
    """Readable names for groups; team names are loaded once per request."""

    def __init__(self, team_ids: Iterable[str]):
        ids = {int(t) for t in team_ids if t not in (ALL, NONE)}
        self.teams = dict(db.session.execute(select(Team.id, Team.name).where(Team.id.in_(ids))).all()) \
            if ids else {}

    def value(self, dim: str, value: str) -> str:
        if value == NONE:
            return NONE_LABELS[dim]
        if dim == "team":
            return self.teams.get(int(value), "A team that no longer exists")
        if dim == "stage":
            return LifecycleStatus(value).label
        return TenureBand(value).label

    def node(self, node: Node) -> str:
        parts = [self.value(dim, v) for dim, v in zip(DIMENSIONS, node, strict=True) if v != ALL]
        return " · ".join(parts) if parts else "Everyone"


def _refusal(reason: _Reason, node: Node, labels: Labels, k: int, *, question: bool = False) -> Refusal:
    name = labels.node(node)
    if reason.code == "too_few":
        if question:
            return Refusal("too_few", f"Fewer than {k} people in {name} were asked or answered this "
                                      "question, so it stays hidden to protect their anonymity.")
        return Refusal("too_few", f"Fewer than {k} people answered in {name}, so its results stay "
                                  "hidden to protect their anonymity.")
    parent = labels.node(reason.parent) if reason.parent else "the wider group"
    if reason.code == "wider_group_hidden":
        return Refusal("wider_group_hidden",
                       f"{name} is hidden because its wider group ({parent}) is hidden to protect a "
                       "smaller group, and showing this part would give that group away.")
    return Refusal("difference",
                   f"{name} is hidden: set against {parent} and its other groups, it would reveal "
                   f"the answers of fewer than {k} people by subtraction.")


# ---------------------------------------------------------------------------------------------
# Reading


def validate_request(filters: Mapping[str, str] | None,
                     breakdown: str | None) -> tuple[dict[str, str], str | None]:
    """Clean filters ({dimension: value}) and a breakdown dimension; raises FilterError."""
    errors: dict[str, str] = {}
    clean: dict[str, str] = {}
    for dim, raw in (filters or {}).items():
        value = str(raw or "").strip()
        if not value:
            continue
        if dim not in DIMENSIONS:
            errors[dim] = "Filter by team, stage or tenure."
        elif value == NONE:
            clean[dim] = value
        elif dim == "team" and not value.isdigit():
            errors[dim] = "Choose a team from the list."
        elif dim == "stage" and value not in {s.value for s in LifecycleStatus}:
            errors[dim] = "Choose a lifecycle stage from the list."
        elif dim == "tenure" and value not in {b.value for b in TenureBand}:
            errors[dim] = "Choose a tenure band from the list."
        else:
            clean[dim] = value
    if breakdown in ("", None, "none"):
        breakdown = None
    elif breakdown not in DIMENSIONS:
        errors["by"] = "Break results down by team, stage or tenure."
    elif breakdown in clean:
        errors["by"] = f"Results are already filtered to one {DIMENSION_LABELS[breakdown].lower()}; " \
                       "break them down by another dimension."
    if errors:
        raise FilterError(errors)
    return clean, breakdown


def _check_rounds(rounds: Sequence[SurveyRound]) -> None:
    if not rounds:
        raise ResultsUnavailable("Choose at least one closed round.")
    if len({r.survey_id for r in rounds}) != 1:
        raise ResultsUnavailable("Rounds can only be combined within one survey.")
    for r in rounds:
        if r.status is not RoundStatus.CLOSED or r.results_built_at is None:
            raise ResultsUnavailable(f"{r.label} is not closed yet: results appear when a round closes, "
                                     "so nobody can watch scores move as single answers arrive.")


def _node_of(filters: Mapping[str, str]) -> Node:
    return tuple(filters.get(dim, ALL) for dim in DIMENSIONS)  # type: ignore[return-value]


def _patterns(dims: Iterable[str]) -> list[str]:
    letters = [LETTERS[DIMENSIONS.index(d)] for d in DIMENSIONS if d in set(dims)]
    return ["".join(combo) for n in range(len(letters) + 1) for combo in combinations(letters, n)]


@dataclass
class _RoundCounts:
    respondents: dict[Node, int] = field(default_factory=dict)
    invited: dict[Node, int] = field(default_factory=dict)
    question_counts: dict[Node, dict[str, int]] = field(default_factory=dict)


def _load_counts(rounds: Sequence[SurveyRound], dims: Iterable[str]) -> dict[int, _RoundCounts]:
    """The counts of every group the rules need (all combinations of the dimensions in play)."""
    out = {r.id: _RoundCounts() for r in rounds}
    rows = db.session.execute(
        select(SurveyResultCell.round_id, SurveyResultCell.team, SurveyResultCell.stage,
               SurveyResultCell.tenure, SurveyResultCell.respondents, SurveyResultCell.invited,
               SurveyResultCell.question_counts)
        .where(SurveyResultCell.round_id.in_([r.id for r in rounds]),
               SurveyResultCell.pattern.in_(_patterns(dims)))
    ).all()
    for round_id, team, stage, tenure, respondents, invited, counts in rows:
        node = (team, stage, tenure)
        bucket = out[round_id]
        bucket.respondents[node] = respondents
        bucket.invited[node] = invited
        if counts:
            bucket.question_counts[node] = counts
    return out


class _Judge:
    """The rules for a set of rounds: respondent lattices plus per-question ones where counts differ."""

    def __init__(self, rounds: Sequence[SurveyRound], counts: dict[int, _RoundCounts], labels: Labels,
                 *, k_override: int | None = None,
                 questions: dict[int, list[SurveyQuestion]] | None = None):
        self.rounds = list(rounds)
        self.counts = counts
        self.labels = labels
        self.k = {r.id: max(k_override or 0, r.min_group_size) for r in rounds}
        self.lattices = {r.id: Lattice(counts[r.id].respondents, self.k[r.id]) for r in rounds}
        self._question_lattices: dict[tuple[int, str], Lattice] = {}
        # Combined rounds may use different versions: a question is the same one by its key.
        self._key_of: dict[str, str] = {}
        self._ids_by_key: dict[int, dict[str, str]] = {}
        for round_id, qs in (questions or {}).items():
            self._ids_by_key[round_id] = {q.key: str(q.id) for q in qs}
            self._key_of.update({str(q.id): q.key for q in qs})

    def _round_qid(self, round_id: int, qid: str) -> str | None:
        if round_id not in self._ids_by_key or qid not in self._key_of:
            return qid
        return self._ids_by_key[round_id].get(self._key_of[qid])

    @property
    def threshold(self) -> int:
        return max(self.k.values())

    def _question_lattice(self, round_id: int, qid: str) -> Lattice:
        key = (round_id, qid)
        if key not in self._question_lattices:
            data = self.counts[round_id]
            if not any(qid in c for c in data.question_counts.values()):
                self._question_lattices[key] = self.lattices[round_id]
            else:
                self._question_lattices[key] = Lattice(
                    {node: data.question_counts.get(node, {}).get(qid, n)
                     for node, n in data.respondents.items()}, self.k[round_id])
        return self._question_lattices[key]

    def refusal(self, node: Node, qid: str | None = None) -> Refusal | None:
        """None when the node (or one question of it) may show across all the rounds."""
        lattices = {}
        for r in self.rounds:
            round_qid = self._round_qid(r.id, qid) if qid else None
            if qid and round_qid is None:
                lattices[r.id] = Lattice({}, self.k[r.id])  # the question was not asked that round
            else:
                lattices[r.id] = self._question_lattice(r.id, round_qid) if round_qid else self.lattices[r.id]
        present = [r for r in self.rounds if lattices[r.id].count(node) > 0]
        if not present:
            return _refusal(_Reason("too_few"), node, self.labels, self.threshold, question=bool(qid))
        if len(self.rounds) == 1:
            reason = lattices[present[0].id].verdict(node)
            return _refusal(reason, node, self.labels, self.k[present[0].id], question=bool(qid)) \
                if reason else None
        for r in present:
            if lattices[r.id].verdict(node) is not None:
                return Refusal("round_difference",
                               f"{r.label} cannot be shown on its own for {self.labels.node(node)}, so it "
                               "is not combined with other rounds either: subtracting them would "
                               "reveal it.")
        return None

    def respondents(self, node: Node) -> int:
        return sum(self.counts[r.id].respondents.get(node, 0) for r in self.rounds)

    def invited(self, node: Node) -> int:
        return sum(self.counts[r.id].invited.get(node, 0) for r in self.rounds)


def _questions_by_round(rounds: Sequence[SurveyRound]) -> dict[int, list[SurveyQuestion]]:
    version_ids = {r.version_id for r in rounds}
    questions = db.session.scalars(select(SurveyQuestion).where(SurveyQuestion.version_id.in_(version_ids))
                                   .order_by(SurveyQuestion.version_id, SurveyQuestion.position)).all()
    by_version: dict[int, list[SurveyQuestion]] = defaultdict(list)
    for q in questions:
        by_version[q.version_id].append(q)
    return {r.id: by_version[r.version_id] for r in rounds}


def _load_stats(rounds: Sequence[SurveyRound], nodes: Iterable[Node]) -> dict[tuple[int, Node], dict]:
    """The aggregates of the given nodes in the given rounds, in one query."""
    nodes = set(nodes)
    if not nodes:
        return {}
    patterns = {pattern_of(n) for n in nodes}
    query = select(SurveyResultCell.round_id, SurveyResultCell.team, SurveyResultCell.stage,
                   SurveyResultCell.tenure, SurveyResultCell.stats).where(
        SurveyResultCell.round_id.in_([r.id for r in rounds]), SurveyResultCell.pattern.in_(patterns))
    columns = (SurveyResultCell.team, SurveyResultCell.stage, SurveyResultCell.tenure)
    for dim, column in enumerate(columns):
        values = {n[dim] for n in nodes}
        if ALL not in values:
            query = query.where(column.in_(values))
        elif len(values) == 2:
            # Either everyone or one value: e.g. a team's slice and its breakdown by stage.
            (value,) = values - {ALL}
            query = query.where(or_(column == ALL, column == value))
    return {(round_id, (t, s, b)): stats for round_id, t, s, b, stats in db.session.execute(query)
            if (t, s, b) in nodes}


def _merge(stats_list: Iterable[dict]) -> dict[str, dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for stats in stats_list:
        for qid, entry in stats.items():
            target = merged.setdefault(qid, {"n": 0, "dist": {}})
            target["n"] += entry.get("n", 0)
            for value, count in entry.get("dist", {}).items():
                target["dist"][value] = target["dist"].get(value, 0) + count
    return merged


def _enps(dist: Mapping[str, int]) -> Enps | None:
    n = sum(dist.values())
    if not n:
        return None
    promoters = sum(c for v, c in dist.items() if int(v) >= 9)
    detractors = sum(c for v, c in dist.items() if int(v) <= 6)
    return Enps(round(100 * (promoters - detractors) / n), promoters / n, (n - promoters - detractors) / n,
                detractors / n, n)


def _question_result(question: SurveyQuestion, entry: dict[str, Any] | None,
                     refusal: Refusal | None) -> QuestionResult:
    # A hidden question's answer count is hidden too: it would size a group too small to show.
    result = QuestionResult(question, n=(entry or {}).get("n", 0) if refusal is None else 0, refusal=refusal)
    if refusal is not None or not entry or question.kind is QuestionKind.SHORT_TEXT:
        return result
    dist = entry.get("dist", {})
    n = sum(dist.values())
    if not n:
        return result
    if question.kind is QuestionKind.SINGLE_CHOICE:
        result.buckets = [Bucket(c["key"], c["label"], dist.get(c["key"], 0), dist.get(c["key"], 0) / n)
                          for c in question.choices]
        return result
    scale = question.kind.scale
    assert scale is not None
    result.mean = sum(int(v) * c for v, c in dist.items()) / n
    labels = AGREEMENT_LABELS if question.kind is QuestionKind.AGREEMENT else {}
    result.buckets = [Bucket(str(v), labels.get(v, str(v)), dist.get(str(v), 0), dist.get(str(v), 0) / n)
                      for v in scale]
    if question.kind is QuestionKind.AGREEMENT:
        result.favourable = (dist.get("4", 0) + dist.get("5", 0)) / n
    else:
        result.enps = _enps(dist)
    return result


def _group(node: Node, judge: _Judge, questions: list[SurveyQuestion],
           stats: dict[str, dict[str, Any]] | None) -> GroupResult:
    group = GroupResult(node, judge.labels.node(node), judge.invited(node), judge.respondents(node),
                        refusal=judge.refusal(node))
    if group.refusal is not None:
        return group
    stats = stats or {}
    connection_sum = connection_n = 0
    connection_complete = True
    for question in questions:
        qid = str(question.id)
        refusal = None if question.kind is QuestionKind.SHORT_TEXT else judge.refusal(node, qid)
        result = _question_result(question, stats.get(qid), refusal)
        group.questions.append(result)
        if question.kind is QuestionKind.SHORT_TEXT:
            group.comments += result.n
        if question.counts_toward_connection:
            if result.shown and result.mean is not None:
                connection_sum += result.mean * sum(b.count for b in result.buckets)
                connection_n += sum(b.count for b in result.buckets)
            else:
                connection_complete = False
        if question.kind is QuestionKind.ENPS and group.enps is None and result.enps is not None:
            group.enps = result.enps
    if connection_n and connection_complete:
        group.connection = connection_sum / connection_n
    return group


def _scope_refusal(scope: Scope, filters: Mapping[str, str], breakdown: str | None) -> Refusal | None:
    if scope.sees_everything:
        return None
    team = filters.get("team")
    if team is None and breakdown == "team":
        return None
    if team is not None and scope.allows((team, ALL, ALL)):
        return None
    return Refusal("not_in_scope", "You can see results for the teams you lead: choose one of them.")


def _merge_by_key(questions: list[SurveyQuestion], by_round: dict[int, list[SurveyQuestion]],
                  stats: dict[tuple[int, Node], dict], node: Node, rounds: Sequence[SurveyRound]) -> dict:
    """Stats of one node summed across rounds, matched by question key and keyed by the shown ids."""
    wanted = {q.key: str(q.id) for q in questions}
    per_round = []
    for r in rounds:
        ids = {str(q.id): q.key for q in by_round[r.id]}
        raw = stats.get((r.id, node), {})
        per_round.append({wanted[ids[qid]]: entry for qid, entry in raw.items()
                          if qid in ids and ids[qid] in wanted})
    return _merge(per_round)


def group_results(rounds: Sequence[SurveyRound], scope: Scope, *, filters: Mapping[str, str] | None = None,
                  breakdown: str | None = None) -> Results:
    """A slice of one or more closed rounds, optionally broken down, with every rule applied."""
    _check_rounds(rounds)
    clean, breakdown = validate_request(filters, breakdown)
    rounds = sorted(rounds, key=lambda r: r.sequence)
    dims = set(clean) | ({breakdown} if breakdown else set())
    counts = _load_counts(rounds, dims)
    all_nodes = {node for c in counts.values() for node in c.respondents}
    labels = Labels({node[0] for node in all_nodes} | {clean.get("team", ALL)})
    by_round = _questions_by_round(rounds)
    questions = by_round[rounds[-1].id]
    judge = _Judge(rounds, counts, labels, questions=by_round)
    slice_node = _node_of(clean)

    scope_refusal = _scope_refusal(scope, clean, breakdown)
    children: list[Node] = []
    if breakdown:
        b = DIMENSIONS.index(breakdown)
        children = sorted(
            {n for n in all_nodes if n[b] not in (ALL,) and _parent(n, b) == slice_node and scope.allows(n)},
            key=lambda n: (n[b] == NONE, labels.value(breakdown, n[b])))
    slice_shown = scope_refusal is None and judge.refusal(slice_node) is None
    wanted = ([slice_node] if slice_shown and (scope.sees_everything or "team" in clean) else []) + [
        n for n in children if judge.refusal(n) is None]
    stats = _load_stats(rounds, wanted) if scope_refusal is None else {}

    def build(node: Node) -> GroupResult:
        return _group(node, judge, questions, _merge_by_key(questions, by_round, stats, node, rounds))

    if scope_refusal is not None:
        slice_group = GroupResult(slice_node, labels.node(slice_node), 0, 0, refusal=scope_refusal)
        groups: list[GroupResult] = []
    else:
        slice_group = build(slice_node)
        if not scope.allows(slice_node):
            # A manager breaking down by team does not see the company as a whole.
            slice_group = GroupResult(slice_node, labels.node(slice_node), 0, 0, refusal=Refusal(
                "not_in_scope", "Results for everyone are for HR partners; your teams are below."))
        groups = [build(n) for n in children]
    return Results(list(rounds), clean, breakdown, slice_group, groups, judge.threshold)


def trend(rounds: Sequence[SurveyRound], scope: Scope, *,
          filters: Mapping[str, str] | None = None) -> list[TrendPoint]:
    """One slice across many closed rounds, each round judged on its own (oldest first)."""
    clean, _ = validate_request(filters, None)
    rounds = sorted((r for r in rounds if r.status is RoundStatus.CLOSED and r.results_built_at),
                    key=lambda r: r.sequence)
    if not rounds:
        return []
    node = _node_of(clean)
    refusal = _scope_refusal(scope, clean, None)
    if refusal is None and not scope.allows(node):
        refusal = Refusal("not_in_scope", "You can see results for the teams you lead: choose one of them.")
    counts = _load_counts(rounds, clean)
    labels = Labels({clean.get("team", ALL)})
    by_round = _questions_by_round(rounds)
    judges = {r.id: _Judge([r], counts, labels, questions={r.id: by_round[r.id]}) for r in rounds}
    shown = [r for r in rounds if refusal is None and judges[r.id].refusal(node) is None]
    stats = _load_stats(shown, [node])
    points = []
    for r in rounds:
        if refusal is not None:
            group = GroupResult(node, labels.node(node), 0, 0, refusal=refusal)
        else:
            group = _group(node, judges[r.id], by_round[r.id], stats.get((r.id, node)))
        points.append(TrendPoint(r, group))
    return points


def comments(rounds: Sequence[SurveyRound], scope: Scope, *, filters: Mapping[str, str] | None = None,
             limit: int = 100, offset: int = 0) -> Comments:
    """Short-text answers of a slice, from 10 respondents, in a fixed shuffled order, by round."""
    _check_rounds(rounds)
    clean, _ = validate_request(filters, None)
    rounds = sorted(rounds, key=lambda r: r.sequence)
    if not scope.may_filter_comments and set(clean) - {"team"}:
        return Comments(Refusal("comments_not_filterable",
                                "Comments show for a whole team only: filtering them by stage or tenure "
                                "could single people out."), [], 0)
    refusal = _scope_refusal(scope, clean, None)
    node = _node_of(clean)
    if refusal is None and not scope.allows(node):
        refusal = Refusal("not_in_scope", "You can see comments for the teams you lead: choose one of them.")
    if refusal is not None:
        return Comments(refusal, [], 0)
    counts = _load_counts(rounds, clean)
    labels = Labels({clean.get("team", ALL)})
    judge = _Judge(rounds, counts, labels, k_override=COMMENT_MIN_GROUP_SIZE)
    refusal = judge.refusal(node)
    if refusal is not None:
        if refusal.code == "too_few":
            refusal = Refusal("too_few", f"Comments show only where at least {judge.threshold} people "
                                         f"answered; {labels.node(node)} has fewer.")
        return Comments(refusal, [], 0)
    conditions = [SurveyResponse.round_id.in_([r.id for r in rounds]),
                  SurveyQuestion.kind == QuestionKind.SHORT_TEXT, SurveyAnswer.text.is_not(None)]
    for dim, value in clean.items():
        column = RESPONSE_COLUMNS[dim]
        conditions.append(column.is_(None) if value == NONE
                          else column == (int(value) if dim == "team" else value))
    base = (select(SurveyAnswer.text, SurveyResponse.round_id, SurveyQuestion.prompt)
            .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
            .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
            .where(*conditions))
    # Ordered by the random response key: a stable shuffle that says nothing about arrival.
    rows = db.session.execute(base.order_by(SurveyResponse.id, SurveyAnswer.question_id)
                              .limit(limit).offset(offset)).all()
    total = db.session.scalar(select(func.count()).select_from(base.subquery())) or 0
    round_labels = {r.id: r.label for r in rounds}
    return Comments(None, [Comment(round_labels[round_id], prompt, text) for text, round_id, prompt in rows],
                    total)


def team_connection(round_: SurveyRound) -> dict[int, GroupResult]:
    """Each team's shown results for a closed round, as the whole company's rules allow."""
    results = group_results([round_], COMPANY_SCOPE, breakdown="team")
    return {g.team_id: g for g in results.groups if g.shown and g.team_id is not None}
