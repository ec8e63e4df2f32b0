"""Closing a round: rewrite its responses out of arrival order, then build its result cells.

The cells are the round's aggregates for every combination of team, lifecycle stage and tenure
band (each either one value or "*" for all). Results pages read only these cells, through the
anonymity layer, so a results page never scans raw answers and costs the same at 50 or 50,000
respondents.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Column, MetaData, String, Table, delete, func, insert, select, text

from touchpoints.extensions import db
from touchpoints.surveys.anonymity import ALL, NONE, Node, judge_round, pattern_of, verdict_columns
from touchpoints.surveys.models import (
    QuestionKind,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
    SurveyResultCell,
    SurveyRound,
    new_response_id,
)


def _value(raw: Any) -> str:
    return NONE if raw is None else str(raw)


# Old key -> new key while a closed round's responses are rewritten; lives only in the transaction.
_rekey = Table("survey_rekey", MetaData(), Column("old_id", String(32), primary_key=True),
               Column("new_id", String(32), nullable=False), prefixes=["TEMPORARY"])


def scramble_physical_order(round_id: int) -> None:
    """Rewrite a round's responses under new random keys, in random order.

    While a round is open, rows sit in the order they arrived (PostgreSQL's heap, SQLite's
    pages until the next rebuild). After this, nothing in the tables follows that order; the
    participation table's order can then no longer be lined up with the answers. The copy runs
    in the database (INSERT ... SELECT ... ORDER BY random()), so a round of any size fits.
    """
    old_ids = list(db.session.scalars(select(SurveyResponse.id).where(SurveyResponse.round_id == round_id)))
    if not old_ids:
        return
    connection = db.session.connection()
    connection.execute(text("DROP TABLE IF EXISTS survey_rekey"))
    _rekey.create(connection)
    connection.execute(insert(_rekey), [{"old_id": old, "new_id": new_response_id()} for old in old_ids])
    responses, answers = SurveyResponse.__table__, SurveyAnswer.__table__
    connection.execute(insert(responses).from_select(
        ["id", "round_id", "team_id", "stage", "tenure_band"],
        select(_rekey.c.new_id, responses.c.round_id, responses.c.team_id, responses.c.stage,
               responses.c.tenure_band)
        .join(_rekey, _rekey.c.old_id == responses.c.id).order_by(func.random())))
    connection.execute(insert(answers).from_select(
        ["response_id", "question_id", "score", "choice", "text"],
        select(_rekey.c.new_id, answers.c.question_id, answers.c.score, answers.c.choice, answers.c.text)
        .join(_rekey, _rekey.c.old_id == answers.c.response_id).order_by(func.random())))
    old = select(_rekey.c.old_id)
    connection.execute(delete(answers).where(answers.c.response_id.in_(old)))
    connection.execute(delete(responses).where(responses.c.id.in_(old)))
    _rekey.drop(connection)
    db.session.expire_all()


def rollups(t: str, s: str, b: str) -> tuple[Node, ...]:
    """The eight groups a finest group counts towards (each dimension kept or "*")."""
    a = ALL
    return ((t, s, b), (t, s, a), (t, a, b), (t, a, a), (a, s, b), (a, s, a), (a, a, b), (a, a, a))


def build_result_cells(round_: SurveyRound) -> int:
    """(Re)build a closed round's result cells; returns how many cells were written."""
    questions = {q.id: q for q in round_.version.questions} if round_.version else {}
    texts = {qid for qid, q in questions.items() if q.kind is QuestionKind.SHORT_TEXT}
    connection = {qid for qid, q in questions.items() if q.counts_toward_connection}
    enps = next((qid for qid, q in questions.items() if q.kind is QuestionKind.ENPS), None)
    invited: dict[Node, int] = defaultdict(int)
    invitation_group = (SurveyInvitation.team_id, SurveyInvitation.stage, SurveyInvitation.tenure_band)
    for t, s, b, n in db.session.execute(
            select(*invitation_group, func.count()).where(SurveyInvitation.round_id == round_.id)
            .group_by(*invitation_group)):
        for node in rollups(_value(t), _value(s), _value(b)):
            invited[node] += n
    group = (SurveyResponse.team_id, SurveyResponse.stage, SurveyResponse.tenure_band)
    respondents: dict[Node, int] = defaultdict(int)
    for t, s, b, n in db.session.execute(
            select(*group, func.count()).where(SurveyResponse.round_id == round_.id).group_by(*group)):
        for node in rollups(_value(t), _value(s), _value(b)):
            respondents[node] += n
    # node -> question id -> value -> count (text questions count under the value "text").
    dists: dict[Node, dict[int, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    for t, s, b, question_id, score, choice, n in db.session.execute(
            select(*group, SurveyAnswer.question_id, SurveyAnswer.score, SurveyAnswer.choice, func.count())
            .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
            .where(SurveyResponse.round_id == round_.id)
            .group_by(*group, SurveyAnswer.question_id, SurveyAnswer.score, SurveyAnswer.choice)):
        if question_id not in questions:
            continue
        value = "text" if question_id in texts else (str(score) if score is not None else str(choice))
        for node in rollups(_value(t), _value(s), _value(b)):
            dists[node][question_id][value] += n

    nodes = invited.keys() | respondents.keys()
    question_counts: dict[Node, dict[str, int]] = {}
    stats: dict[Node, dict[str, Any]] = {}
    for node in nodes:
        asked = respondents.get(node, 0)
        node_stats: dict[str, Any] = {}
        for qid in questions:
            dist = dists[node][qid] if node in dists and qid in dists[node] else None
            n = sum(dist.values()) if dist else 0
            if qid in texts:
                if n:
                    node_stats[str(qid)] = {"n": n}
                continue
            if dist:
                node_stats[str(qid)] = {"n": n, "dist": dict(dist)}
            # Questions not everyone was asked (new hires only) are judged on their own counts.
            if n != asked and asked:
                question_counts.setdefault(node, {})[str(qid)] = n
        stats[node] = node_stats
    verdicts = judge_round({node: respondents.get(node, 0) for node in nodes}, question_counts,
                           round_.min_group_size)
    rows = [{"round_id": round_.id, "team": node[0], "stage": node[1], "tenure": node[2],
             "pattern": pattern_of(node), "invited": invited.get(node, 0),
             "respondents": respondents.get(node, 0), "stats": stats[node],
             **_summary(stats[node], connection, enps, texts), **verdict_columns(verdicts[node])}
            for node in nodes]
    db.session.execute(delete(SurveyResultCell).where(SurveyResultCell.round_id == round_.id))
    if rows:
        db.session.execute(insert(SurveyResultCell.__table__), rows)
    return len(rows)


def _summary(stats: dict[str, Any], connection: set[int], enps: int | None,
             texts: set[int]) -> dict[str, int]:
    """The summary columns of a cell, from its stats."""
    total = answers = 0
    for qid in connection:
        for value, n in stats.get(str(qid), {}).get("dist", {}).items():
            total += int(value) * n
            answers += n
    dist = stats.get(str(enps), {}).get("dist", {}) if enps else {}
    return {"connection_sum": total, "connection_answers": answers,
            "enps_promoters": sum(n for v, n in dist.items() if int(v) >= 9),
            "enps_passives": sum(n for v, n in dist.items() if 7 <= int(v) <= 8),
            "enps_detractors": sum(n for v, n in dist.items() if int(v) <= 6),
            "comments": sum(stats.get(str(qid), {}).get("n", 0) for qid in texts)}
