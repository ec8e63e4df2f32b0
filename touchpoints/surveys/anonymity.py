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

When a round closes, `judge_round` applies these rules to every group of the whole round at once
and the verdicts are stored with the round's result cells (a closed round never changes). Reading
then costs one query for the groups on screen, whatever the size of the company.
"""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Text, and_, case, cast, func, select

from touchpoints.extensions import db
from touchpoints.people.access import report_ids_query
from touchpoints.people.models import Employee, LifecycleStatus, Team
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

ALL = "*"
NONE = "-"
DIMENSIONS = ("team", "stage", "tenure")
LETTERS = ("t", "s", "b")
Node = tuple[str, str, str]
DIMENSION_LABELS = {"team": "Team", "stage": "Lifecycle stage", "tenure": "Tenure"}
NONE_LABELS = {"team": "Other teams (each too small to report) or no team",
               "stage": "Other stages (each too small to report)",
               "tenure": "Other tenure (too small to report, or no start date)"}
RESPONSE_COLUMNS = {"team": SurveyResponse.team_id, "stage": SurveyResponse.stage,
                    "tenure": SurveyResponse.tenure_band}
CELL_COLUMNS = (SurveyResultCell.team, SurveyResultCell.stage, SurveyResultCell.tenure)


def pattern_of(node: Node) -> str:
    """The letters of a node's concrete dimensions ("" for everyone, "ts" for team and stage)."""
    return "".join(letter for letter, value in zip(LETTERS, node, strict=True) if value != ALL)


def node_key(node: Node | None) -> str:
    """A node as stored text, e.g. "12|active|*"."""
    return "|".join(node) if node else ""


def node_from_key(key: str) -> Node | None:
    return tuple(key.split("|")) if key else None  # type: ignore[return-value]


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
    if dim == 0:
        return (ALL, node[1], node[2])
    if dim == 1:
        return (node[0], ALL, node[2])
    return (node[0], node[1], ALL)


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


@dataclass(frozen=True)
class CellVerdicts:
    """What may show of one group of a closed round: scores, comments, and questions apart."""

    refusal: _Reason | None
    comment_refusal: _Reason | None
    question_refusals: dict[str, _Reason]


def judge_round(respondents: Mapping[Node, int], question_counts: Mapping[Node, Mapping[str, int]],
                k: int) -> dict[Node, CellVerdicts]:
    """Every group of a round judged against the whole round: done once, when the round closes.

    question_counts holds, per group, the answer counts of questions not everyone was asked
    (new-hire questions); those questions get rules of their own over their own counts.
    """
    scores = Lattice(respondents, k)
    remarks = Lattice(respondents, max(k, COMMENT_MIN_GROUP_SIZE))
    special = sorted({qid for counts in question_counts.values() for qid in counts})
    per_question = {qid: Lattice({node: question_counts.get(node, {}).get(qid, n)
                                  for node, n in respondents.items()}, k) for qid in special}
    verdicts = {}
    for node in respondents:
        hidden = {qid: reason for qid, lattice in per_question.items()
                  if (reason := lattice.verdict(node)) is not None}
        verdicts[node] = CellVerdicts(scores.verdict(node), remarks.verdict(node), hidden)
    return verdicts


def verdict_columns(verdicts: CellVerdicts) -> dict[str, Any]:
    """The stored form of a group's verdicts (result-cell columns)."""
    def code(reason: _Reason | None) -> str:
        return reason.code if reason else ""

    def parent(reason: _Reason | None) -> str:
        return node_key(reason.parent) if reason else ""

    return {"refusal": code(verdicts.refusal), "refusal_parent": parent(verdicts.refusal),
            "comment_refusal": code(verdicts.comment_refusal),
            "comment_refusal_parent": parent(verdicts.comment_refusal),
            "question_refusals": {qid: [r.code, node_key(r.parent)]
                                  for qid, r in verdicts.question_refusals.items()}}


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
# Labels and explanations


class Labels:
    """Readable names for groups; team names are loaded once (or handed over by the caller)."""

    def __init__(self, team_ids: Iterable[str] = (), team_names: Mapping[int, str] | None = None):
        if team_names is not None:
            self.teams = dict(team_names)
            return
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
        return " · ".join(parts) if parts else "Everyone asked"


def _refusal(code: str, parent: Node | None, node: Node, labels: Labels, k: int, *,
             question: bool = False) -> Refusal:
    name = labels.node(node)
    if code == "too_few":
        if question:
            return Refusal("too_few", f"Fewer than {k} people in {name} were asked or answered this "
                                      "question, so it stays hidden to protect their anonymity.")
        return Refusal("too_few", f"Fewer than {k} people answered in {name}, so its results stay "
                                  "hidden to protect their anonymity.")
    wider = labels.node(parent) if parent else "the wider group"
    if code == "wider_group_hidden":
        return Refusal("wider_group_hidden",
                       f"{name} is hidden because its wider group ({wider}) is hidden to protect a "
                       "smaller group, and showing this part would give that group away.")
    return Refusal("difference",
                   f"{name} is hidden: set against {wider} and its other groups, it would reveal "
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


@dataclass
class ReadCache:
    """What one request reads once and reuses: team names and questions by version."""

    team_names: dict[int, str] | None = None
    questions: dict[int, list[SurveyQuestion]] = field(default_factory=dict)

    def labels(self, team_ids: Iterable[str]) -> Labels:
        if self.team_names is None:
            return Labels(team_ids)
        return Labels(team_names=self.team_names)

    def questions_by_round(self, rounds: Sequence[SurveyRound]) -> dict[int, list[SurveyQuestion]]:
        missing = {r.version_id for r in rounds} - set(self.questions)
        if missing:
            for vid in missing:
                self.questions[vid] = []
            for q in db.session.scalars(select(SurveyQuestion).where(SurveyQuestion.version_id.in_(missing))
                                        .order_by(SurveyQuestion.version_id, SurveyQuestion.position)):
                self.questions[q.version_id].append(q)
        return {r.id: self.questions[r.version_id] for r in rounds}


@dataclass
class _Cell:
    round: SurveyRound
    invited: int
    respondents: int
    refusal: tuple[str, Node | None] | None
    comment_refusal: tuple[str, Node | None] | None
    question_refusals: dict[str, tuple[str, Node | None]]
    # The summary columns: (connection sum, connection answers, promoters, passives, detractors, comments).
    summary: tuple[int, int, int, int, int, int]
    raw_stats: str | dict | None = None
    _stats: dict[str, Any] | None = None

    @property
    def stats(self) -> dict[str, Any]:
        """The full distributions, decoded only when a view needs them (one group of hundreds)."""
        if self._stats is None:
            raw = self.raw_stats
            self._stats = json.loads(raw) if isinstance(raw, str) else dict(raw or {})
        return self._stats


def _stored(code: str, parent: str) -> tuple[str, Node | None] | None:
    return (code, node_from_key(parent)) if code else None


def _load_cells(rounds: Sequence[SurveyRound], slice_node: Node,
                breakdown: str | None) -> dict[Node, dict[int, _Cell]]:
    """The stored groups of a slice (and of its breakdown) in the given rounds: one query."""
    patterns = {pattern_of(slice_node)}
    if breakdown:
        b = DIMENSIONS.index(breakdown)
        patterns.add("".join(letter for i, letter in enumerate(LETTERS) if i == b or slice_node[i] != ALL))
    conditions = [SurveyResultCell.round_id.in_([r.id for r in rounds]),
                  SurveyResultCell.pattern.in_(patterns)]
    for dim, column in enumerate(CELL_COLUMNS):
        if breakdown != DIMENSIONS[dim]:
            conditions.append(column == slice_node[dim])
    c = SurveyResultCell
    rows = db.session.execute(select(
        c.round_id, *CELL_COLUMNS, c.invited, c.respondents, c.refusal, c.refusal_parent, c.comment_refusal,
        c.comment_refusal_parent, c.question_refusals, c.connection_sum, c.connection_answers,
        c.enps_promoters, c.enps_passives, c.enps_detractors, c.comments,
        # As text: decoded only for the groups whose question-by-question figures are shown.
        cast(c.stats, Text).label("raw_stats"),
    ).where(and_(*conditions)))
    by_id = {r.id: r for r in rounds}
    cells: dict[Node, dict[int, _Cell]] = defaultdict(dict)
    for row in rows:
        hidden_questions = {qid: (code, node_from_key(parent))
                            for qid, (code, parent) in (row.question_refusals or {}).items()}
        cells[(row.team, row.stage, row.tenure)][row.round_id] = _Cell(
            by_id[row.round_id], row.invited, row.respondents, _stored(row.refusal, row.refusal_parent),
            _stored(row.comment_refusal, row.comment_refusal_parent), hidden_questions,
            (row.connection_sum, row.connection_answers, row.enps_promoters, row.enps_passives,
             row.enps_detractors, row.comments), row.raw_stats)
    return cells


def _combined_refusal(node: Node, cells: dict[int, _Cell], rounds: Sequence[SurveyRound], labels: Labels, *,
                      comments: bool = False) -> Refusal | None:
    """One verdict across rounds: each round with answers in the group must be showable alone."""
    def k_of(r: SurveyRound) -> int:
        return max(r.min_group_size, COMMENT_MIN_GROUP_SIZE) if comments else r.min_group_size

    present = [cells[r.id] for r in rounds if r.id in cells and cells[r.id].respondents > 0]
    if not present:
        return _refusal("too_few", None, node, labels, max(k_of(r) for r in rounds))
    hidden = [c for c in present if (c.comment_refusal if comments else c.refusal) is not None]
    if not hidden:
        return None
    cell = hidden[0]
    if len(rounds) == 1:
        code, parent = cell.comment_refusal if comments else cell.refusal  # type: ignore[misc]
        return _refusal(code, parent, node, labels, k_of(cell.round))
    return Refusal("round_difference",
                   f"{cell.round.label} cannot be shown on its own for {labels.node(node)}, so it is not "
                   "combined with other rounds either: subtracting them would reveal it.")


def _question_refusal(node: Node, question: SurveyQuestion, cells: dict[int, _Cell],
                      rounds: Sequence[SurveyRound], keyed: dict[int, dict[str, str]],
                      labels: Labels) -> Refusal | None:
    """A question not everyone was asked (new hires) has its own verdict in each round."""
    hidden = []
    for r in rounds:
        qid = keyed[r.id].get(question.key)
        if qid and r.id in cells and qid in cells[r.id].question_refusals:
            hidden.append((r, cells[r.id].question_refusals[qid]))
    if not hidden:
        return None
    round_, (code, parent) = hidden[0]
    if len(rounds) == 1:
        return _refusal(code, parent, node, labels, round_.min_group_size, question=True)
    return Refusal("round_difference",
                   f"{round_.label} cannot show this question on its own for {labels.node(node)}, so it "
                   "is not combined with other rounds either.")


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
                     refusal: Refusal | None, *, buckets: bool = True) -> QuestionResult:
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
    result.mean = sum(int(v) * c for v, c in dist.items()) / n
    if buckets:
        scale = question.kind.scale
        assert scale is not None
        labels = AGREEMENT_LABELS if question.kind is QuestionKind.AGREEMENT else {}
        result.buckets = [Bucket(str(v), labels.get(v, str(v)), dist.get(str(v), 0), dist.get(str(v), 0) / n)
                          for v in scale]
    if question.kind is QuestionKind.AGREEMENT:
        result.favourable = (dist.get("4", 0) + dist.get("5", 0)) / n
    else:
        result.enps = _enps(dist)
    return result


def _keyed(rounds: Sequence[SurveyRound],
           by_round: dict[int, list[SurveyQuestion]]) -> dict[int, dict[str, str]]:
    """Each round's question ids by question key (versions differ; keys stay)."""
    return {r.id: {q.key: str(q.id) for q in by_round[r.id]} for r in rounds}


DETAILS = ("full", "figures", "summary")


def _group(node: Node, cells: dict[int, _Cell], rounds: Sequence[SurveyRound],
           questions: list[SurveyQuestion], keyed: dict[int, dict[str, str]], labels: Labels,
           *, detail: str = "full") -> GroupResult:
    """One group's figures across rounds (questions matched by key).

    detail: "full" (every question with its distribution), "figures" (every question's mean or
    shares, no distribution: the CSV) or "summary" (connection, eNPS and comments only).
    """
    group = GroupResult(node, labels.node(node), sum(c.invited for c in cells.values()),
                        sum(c.respondents for c in cells.values()))
    group.refusal = _combined_refusal(node, cells, rounds, labels)
    if group.refusal is not None:
        return group
    special = any(cell.question_refusals for cell in cells.values())
    _summarise(group, node, questions, cells, rounds, keyed, labels, special)
    if detail == "summary":
        return group
    if len(rounds) == 1:
        stats = cells[rounds[0].id].stats
    else:
        wanted = {q.key: str(q.id) for q in questions}
        per_round = []
        for r in rounds:
            if r.id in cells:
                key_of = {qid: key for key, qid in keyed[r.id].items()}
                per_round.append({wanted[key_of[qid]]: entry for qid, entry in cells[r.id].stats.items()
                                  if key_of.get(qid) in wanted})
        stats = _merge(per_round)
    for question in questions:
        refusal = None if question.kind is QuestionKind.SHORT_TEXT or not special \
            else _question_refusal(node, question, cells, rounds, keyed, labels)
        group.questions.append(_question_result(question, stats.get(str(question.id)), refusal,
                                                buckets=detail == "full"))
    return group


def _summarise(group: GroupResult, node: Node, questions: list[SurveyQuestion], cells: dict[int, _Cell],
               rounds: Sequence[SurveyRound], keyed: dict[int, dict[str, str]], labels: Labels,
               special: bool) -> None:
    """Connection, eNPS and comment count from the stored summaries (breakdowns, trends)."""
    total = sum(cell.summary[0] for cell in cells.values())
    answers = sum(cell.summary[1] for cell in cells.values())
    if answers:
        group.connection = total / answers
    group.comments = sum(cell.summary[5] for cell in cells.values())
    question = next((q for q in questions if q.kind is QuestionKind.ENPS), None)
    if question is None or (special and _question_refusal(node, question, cells, rounds, keyed, labels)):
        return
    promoters, passives, detractors = (sum(cell.summary[i] for cell in cells.values()) for i in (2, 3, 4))
    n = promoters + passives + detractors
    if n:
        group.enps = Enps(round(100 * (promoters - detractors) / n), promoters / n, passives / n,
                          detractors / n, n)


def _scope_refusal(scope: Scope, filters: Mapping[str, str], breakdown: str | None) -> Refusal | None:
    if scope.sees_everything:
        return None
    team = filters.get("team")
    if team is None and breakdown == "team":
        return None
    if team is not None and scope.allows((team, ALL, ALL)):
        return None
    return Refusal("not_in_scope", "You can see results for the teams you lead: choose one of them.")


def group_results(rounds: Sequence[SurveyRound], scope: Scope, *, filters: Mapping[str, str] | None = None,
                  breakdown: str | None = None, cache: ReadCache | None = None,
                  group_detail: str = "full") -> Results:
    """A slice of one or more closed rounds, optionally broken down, with every rule applied.

    The slice always comes in full; group_detail says how much of each breakdown group to work out
    ("summary" is what a page of hundreds of teams needs, "figures" what the CSV needs).
    """
    if group_detail not in DETAILS:
        raise ValueError(f"group_detail must be one of {', '.join(DETAILS)}")
    _check_rounds(rounds)
    clean, breakdown = validate_request(filters, breakdown)
    cache = cache or ReadCache()
    rounds = sorted(rounds, key=lambda r: r.sequence)
    threshold = max(r.min_group_size for r in rounds)
    slice_node = _node_of(clean)
    scope_refusal = _scope_refusal(scope, clean, breakdown)
    if scope_refusal is not None:
        labels = cache.labels([slice_node[0]])
        return Results(list(rounds), clean, breakdown,
                       GroupResult(slice_node, labels.node(slice_node), 0, 0, refusal=scope_refusal), [],
                       threshold)
    cells = _load_cells(rounds, slice_node, breakdown)
    labels = cache.labels({node[0] for node in cells} | {slice_node[0]})
    by_round = cache.questions_by_round(rounds)
    questions = by_round[rounds[-1].id]
    children: list[Node] = []
    if breakdown:
        b = DIMENSIONS.index(breakdown)
        children = sorted((n for n in cells if n[b] != ALL and scope.allows(n)),
                          key=lambda n: (n[b] == NONE, labels.value(breakdown, n[b])))
    keyed = _keyed(rounds, by_round)
    slice_group = _group(slice_node, cells.get(slice_node, {}), rounds, questions, keyed, labels)
    if not scope.allows(slice_node):
        # A manager breaking down by team does not see the company as a whole.
        slice_group = GroupResult(slice_node, labels.node(slice_node), 0, 0, refusal=Refusal(
            "not_in_scope", "Results for everyone are for HR partners; your teams are below."))
    groups = [_group(n, cells[n], rounds, questions, keyed, labels, detail=group_detail) for n in children]
    return Results(list(rounds), clean, breakdown, slice_group, groups, threshold)


def trend(rounds: Sequence[SurveyRound], scope: Scope, *, filters: Mapping[str, str] | None = None,
          cache: ReadCache | None = None) -> list[TrendPoint]:
    """One slice across many closed rounds, each round judged on its own (oldest first)."""
    clean, _ = validate_request(filters, None)
    cache = cache or ReadCache()
    rounds = sorted((r for r in rounds if r.status is RoundStatus.CLOSED and r.results_built_at),
                    key=lambda r: r.sequence)
    if not rounds:
        return []
    node = _node_of(clean)
    labels = cache.labels([node[0]])
    refusal = _scope_refusal(scope, clean, None)
    if refusal is None and not scope.allows(node):
        refusal = Refusal("not_in_scope", "You can see results for the teams you lead: choose one of them.")
    if refusal is not None:
        return [TrendPoint(r, GroupResult(node, labels.node(node), 0, 0, refusal=refusal)) for r in rounds]
    cells = _load_cells(rounds, node, None).get(node, {})
    by_round = cache.questions_by_round(rounds)
    keyed = _keyed(rounds, by_round)
    return [TrendPoint(r, _group(node, {r.id: cells[r.id]} if r.id in cells else {}, [r], by_round[r.id],
                                 keyed, labels, detail="summary"))
            for r in rounds]


def comments(rounds: Sequence[SurveyRound], scope: Scope, *, filters: Mapping[str, str] | None = None,
             limit: int = 100, offset: int = 0, cache: ReadCache | None = None) -> Comments:
    """Short-text answers of a slice, from 10 respondents, in a fixed shuffled order, by round."""
    _check_rounds(rounds)
    clean, _ = validate_request(filters, None)
    cache = cache or ReadCache()
    rounds = sorted(rounds, key=lambda r: r.sequence)
    if not scope.may_filter_comments and set(clean) - {"team"}:
        return Comments(Refusal("comments_not_filterable",
                                "Comments show for a whole team only: filtering them by stage or tenure "
                                "could single people out."), [], 0)
    node = _node_of(clean)
    refusal = _scope_refusal(scope, clean, None)
    if refusal is None and not scope.allows(node):
        refusal = Refusal("not_in_scope", "You can see comments for the teams you lead: choose one of them.")
    if refusal is not None:
        return Comments(refusal, [], 0)
    cells = _load_cells(rounds, node, None).get(node, {})
    labels = cache.labels([node[0]])
    refusal = _combined_refusal(node, cells, rounds, labels, comments=True)
    if refusal is not None:
        if refusal.code == "too_few":
            k = max(max(r.min_group_size, COMMENT_MIN_GROUP_SIZE) for r in rounds)
            refusal = Refusal("too_few", f"Comments show only where at least {k} people "
                                         f"answered; {labels.node(node)} has fewer.")
        return Comments(refusal, [], 0)
    by_round = cache.questions_by_round(rounds)
    text_ids = {str(q.id) for qs in by_round.values() for q in qs if q.kind is QuestionKind.SHORT_TEXT}
    total = sum(entry.get("n", 0) for cell in cells.values() for qid, entry in cell.stats.items()
                if qid in text_ids)
    conditions = [SurveyResponse.round_id.in_([r.id for r in rounds]),
                  SurveyAnswer.question_id.in_([int(q) for q in text_ids] or [-1]),
                  SurveyAnswer.text.is_not(None)]
    for dim, value in clean.items():
        column = RESPONSE_COLUMNS[dim]
        conditions.append(column.is_(None) if value == NONE
                          else column == (int(value) if dim == "team" else value))
    prompts = {q.id: q.prompt for qs in by_round.values() for q in qs}
    # Ordered by the random response key: a stable shuffle that says nothing about arrival.
    rows = db.session.execute(
        select(SurveyAnswer.text, SurveyResponse.round_id, SurveyAnswer.question_id)
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .where(*conditions).order_by(SurveyResponse.id, SurveyAnswer.question_id)
        .limit(limit).offset(offset)).all()
    round_labels = {r.id: r.label for r in rounds}
    return Comments(None, [Comment(round_labels[round_id], prompts.get(qid, ""), text)
                           for text, round_id, qid in rows], total)


def team_connection(round_: SurveyRound) -> dict[int, GroupResult]:
    """Each team's shown results for a closed round, as the whole company's rules allow."""
    results = group_results([round_], COMPANY_SCOPE, breakdown="team", group_detail="summary")
    return {g.team_id: g for g in results.groups if g.shown and g.team_id is not None}
