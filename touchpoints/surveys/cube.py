"""Closing a round: rewrite its responses out of arrival order, then build its result cells.

The cells are the round's aggregates for every combination of team, lifecycle stage and tenure
band (each either one value or "*" for all). Results pages read only these cells, through the
anonymity layer, so a results page never scans raw answers and costs the same at 50 or 50,000
respondents.
"""
from __future__ import annotations

import random
from collections import defaultdict
from itertools import product
from typing import Any

from sqlalchemy import delete, func, insert, select

from touchpoints.extensions import db
from touchpoints.surveys.models import (
    QuestionKind,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
    SurveyResultCell,
    SurveyRound,
    new_response_id,
)

ALL = "*"
NONE = "-"
DIMENSIONS = ("team", "stage", "tenure")
LETTERS = ("t", "s", "b")
Node = tuple[str, str, str]

_system_random = random.SystemRandom()


def pattern_of(node: Node) -> str:
    """The letters of a node's concrete dimensions ("" for everyone, "ts" for team and stage)."""
    return "".join(letter for letter, value in zip(LETTERS, node, strict=True) if value != ALL)


def _value(raw: Any) -> str:
    return NONE if raw is None else str(raw)


def scramble_physical_order(round_id: int) -> None:
    """Rewrite a round's responses under new random keys, in random order.

    While a round is open, rows sit in the order they arrived (PostgreSQL's heap, SQLite's
    pages until the next rebuild). After this, nothing in the tables follows that order; the
    participation table's order can then no longer be lined up with the answers.
    """
    responses = [dict(row) for row in db.session.execute(
        select(SurveyResponse.__table__).where(SurveyResponse.round_id == round_id)).mappings()]
    if not responses:
        return
    answers = [dict(row) for row in db.session.execute(
        select(SurveyAnswer.__table__).join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .where(SurveyResponse.round_id == round_id)).mappings()]
    new_ids = {row["id"]: new_response_id() for row in responses}
    for row in responses:
        row["id"] = new_ids[row["id"]]
    for row in answers:
        row["response_id"] = new_ids[row["response_id"]]
    _system_random.shuffle(responses)
    _system_random.shuffle(answers)
    db.session.execute(delete(SurveyAnswer).where(SurveyAnswer.response_id.in_(
        select(SurveyResponse.id).where(SurveyResponse.round_id == round_id))))
    db.session.execute(delete(SurveyResponse).where(SurveyResponse.round_id == round_id))
    db.session.execute(insert(SurveyResponse), responses)
    db.session.execute(insert(SurveyAnswer), answers)
    db.session.expire_all()


def build_result_cells(round_: SurveyRound) -> int:
    """(Re)build a closed round's result cells; returns how many cells were written."""
    questions = {q.id: q for q in round_.version.questions} if round_.version else {}
    finest_invited = {
        (_value(t), _value(s), _value(b)): n for t, s, b, n in db.session.execute(
            select(SurveyInvitation.team_id, SurveyInvitation.stage, SurveyInvitation.tenure_band,
                   func.count())
            .where(SurveyInvitation.round_id == round_.id)
            .group_by(SurveyInvitation.team_id, SurveyInvitation.stage, SurveyInvitation.tenure_band))
    }
    group = (SurveyResponse.team_id, SurveyResponse.stage, SurveyResponse.tenure_band)
    finest_respondents = {
        (_value(t), _value(s), _value(b)): n for t, s, b, n in db.session.execute(
            select(*group, func.count()).where(SurveyResponse.round_id == round_.id).group_by(*group))
    }
    answer_rows = db.session.execute(
        select(*group, SurveyAnswer.question_id, SurveyAnswer.score, SurveyAnswer.choice,
               func.count(SurveyAnswer.text), func.count())
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .where(SurveyResponse.round_id == round_.id)
        .group_by(*group, SurveyAnswer.question_id, SurveyAnswer.score, SurveyAnswer.choice)
    ).all()

    invited: dict[Node, int] = defaultdict(int)
    respondents: dict[Node, int] = defaultdict(int)
    stats: dict[Node, dict[str, dict[str, Any]]] = defaultdict(dict)
    keeps = list(product((True, False), repeat=3))

    def rollups(finest: Node) -> list[Node]:
        return [tuple(v if keep else ALL for v, keep in zip(finest, mask, strict=True))  # type: ignore[misc]
                for mask in keeps]

    for finest, n in finest_invited.items():
        for node in rollups(finest):
            invited[node] += n
    for finest, n in finest_respondents.items():
        for node in rollups(finest):
            respondents[node] += n
    for t, s, b, question_id, score, choice, texts, n in answer_rows:
        question = questions.get(question_id)
        if question is None:
            continue
        finest = (_value(t), _value(s), _value(b))
        qid = str(question_id)
        for node in rollups(finest):
            entry = stats[node].setdefault(qid, {"n": 0, "dist": {}})
            if question.kind is QuestionKind.SHORT_TEXT:
                entry["n"] += texts
                continue
            entry["n"] += n
            value = str(score) if score is not None else str(choice)
            entry["dist"][value] = entry["dist"].get(value, 0) + n

    rows = []
    for node in set(invited) | set(respondents):
        node_stats = stats.get(node, {})
        counts = {qid: entry["n"] for qid, entry in node_stats.items()
                  if questions[int(qid)].kind is not QuestionKind.SHORT_TEXT
                  and entry["n"] != respondents.get(node, 0)}
        # Questions nobody in the node was asked still count: zero answers, not "everyone".
        for qid, question in questions.items():
            if question.kind is not QuestionKind.SHORT_TEXT and str(qid) not in node_stats \
                    and respondents.get(node, 0):
                counts[str(qid)] = 0
        rows.append({"round_id": round_.id, "team": node[0], "stage": node[1], "tenure": node[2],
                     "pattern": pattern_of(node), "invited": invited.get(node, 0),
                     "respondents": respondents.get(node, 0), "question_counts": counts,
                     "stats": node_stats})
    db.session.execute(delete(SurveyResultCell).where(SurveyResultCell.round_id == round_.id))
    if rows:
        db.session.execute(insert(SurveyResultCell), rows)
    return len(rows)
