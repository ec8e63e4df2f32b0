"""Pulse surveys: versions of questions, rounds, invitations, and answers that carry no name.

How anonymity is built into the tables:

- `survey_responses` and `survey_answers` hold no user or employee id and no timestamp; the
  round says when. Their keys are random (uuid4), and on SQLite both are WITHOUT ROWID tables,
  so neither an id nor the physical row order follows the order people answered in.
- `survey_participation` records who answered which round (for reminders and "one answer per
  person"), dated to the day only, and shares no key with the responses.
- The group a response counts towards (team, lifecycle stage, tenure band) is copied from the
  invitation, where groups smaller than the round's threshold were already coarsened to "none",
  so even the raw table cannot single out a tiny team.
- Results are read only from `survey_result_cells`, built when a round closes, through
  `touchpoints.surveys.anonymity`, which enforces the thresholds.
"""
from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from touchpoints.db_types import UTCDateTime, string_enum, utcnow
from touchpoints.extensions import db

DEFAULT_MIN_GROUP_SIZE = 5
MIN_GROUP_SIZE_RANGE = (3, 10)
# Comments are read word for word, so they need a larger crowd than scores.
COMMENT_MIN_GROUP_SIZE = 10
# New hires: people whose start date lies within this many days of a round opening.
NEW_HIRE_DAYS = 180




def new_response_id() -> str:
    """A random key: says nothing about when or in which order a response arrived."""
    return uuid.uuid4().hex


class QuestionKind(enum.StrEnum):
    AGREEMENT = "agreement"
    ENPS = "enps"
    SINGLE_CHOICE = "single_choice"
    SHORT_TEXT = "short_text"

    @property
    def label(self) -> str:
        return {"agreement": "Agreement (1-5)", "enps": "eNPS (0-10)",
                "single_choice": "Single choice", "short_text": "Short text"}[self.value]

    @property
    def is_scored(self) -> bool:
        """Answered with a number that averages (agreement, eNPS)."""
        return self in (QuestionKind.AGREEMENT, QuestionKind.ENPS)

    @property
    def scale(self) -> range | None:
        return {QuestionKind.AGREEMENT: range(1, 6), QuestionKind.ENPS: range(0, 11)}.get(self)


AGREEMENT_LABELS = {1: "Strongly disagree", 2: "Disagree", 3: "Neither agree nor disagree",
                    4: "Agree", 5: "Strongly agree"}


class QuestionAudience(enum.StrEnum):
    EVERYONE = "everyone"
    NEW_HIRES = "new_hires"

    @property
    def label(self) -> str:
        return {"everyone": "Everyone",
                "new_hires": f"New hires only (first {NEW_HIRE_DAYS} days)"}[self.value]


class RoundStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class AudienceKind(enum.StrEnum):
    EVERYONE = "everyone"
    TEAMS = "teams"
    STAGES = "stages"
    MILESTONE = "milestone"

    @property
    def label(self) -> str:
        return {"everyone": "Everyone currently working", "teams": "Chosen teams",
                "stages": "Chosen lifecycle stages",
                "milestone": "People reaching a day after their start date"}[self.value]


class TenureBand(enum.StrEnum):
    UNDER_6_MONTHS = "under_6m"
    SIX_TO_24_MONTHS = "6m_2y"
    TWO_TO_5_YEARS = "2y_5y"
    OVER_5_YEARS = "over_5y"

    @property
    def label(self) -> str:
        return {"under_6m": "Under 6 months", "6m_2y": "6 months to 2 years",
                "2y_5y": "2 to 5 years", "over_5y": "Over 5 years"}[self.value]


class Survey(db.Model):
    """A pulse survey: a title, its question versions, and the feedback-loop settings."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Set for surveys loaded from a pack (e.g. "connection-pulse"), so loading twice adds nothing.
    key: Mapped[str | None] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # Feedback loop: a team whose connection score is below alert_below, or fell by alert_drop
    # since its previous round, gets a live team conversation planned with its HR partner.
    alert_below: Mapped[float] = mapped_column(default=3.5)
    alert_drop: Mapped[float] = mapped_column(default=0.5)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    versions: Mapped[list[SurveyVersion]] = relationship(
        back_populates="survey", cascade="all, delete-orphan", order_by="SurveyVersion.number"
    )

    @property
    def current_version(self) -> SurveyVersion:
        return self.versions[-1]

    def __repr__(self) -> str:
        return f"<Survey {self.title}>"


class SurveyVersion(db.Model):
    """One version of a survey's questions; locked once a round has opened with it."""

    __tablename__ = "survey_versions"
    __table_args__ = (UniqueConstraint("survey_id", "number", name="uq_survey_versions_survey_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Answers refer to these questions, so a version in use is never edited: edits make a new one.
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    survey: Mapped[Survey] = relationship(back_populates="versions")
    questions: Mapped[list[SurveyQuestion]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="SurveyQuestion.position"
    )

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None


class SurveyQuestion(db.Model):
    """One question of one version; `key` stays the same across versions so trends line up."""

    __tablename__ = "survey_questions"
    __table_args__ = (UniqueConstraint("version_id", "key", name="uq_survey_questions_version_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("survey_versions.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[QuestionKind] = mapped_column(string_enum(QuestionKind, 20))
    prompt: Mapped[str] = mapped_column(String(300))
    help_text: Mapped[str] = mapped_column(String(300), default="")
    # Single choice only: [{"key": "...", "label": "..."}], in the order shown.
    choices: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    audience: Mapped[QuestionAudience] = mapped_column(
        string_enum(QuestionAudience, 20), default=QuestionAudience.EVERYONE
    )
    # Agreement questions that make up the connection score the feedback loop watches.
    counts_toward_connection: Mapped[bool] = mapped_column(default=False)

    version: Mapped[SurveyVersion] = relationship(back_populates="questions")

    @property
    def choice_labels(self) -> dict[str, str]:
        return {c["key"]: c["label"] for c in self.choices or []}

    def applies_to(self, new_hire: bool) -> bool:
        """Whether a respondent (new hire or not) is asked this question."""
        return self.audience is QuestionAudience.EVERYONE or new_hire


class SurveyRound(db.Model):
    """One sending of a survey to an audience, open for a window; may repeat on a cadence."""

    __tablename__ = "survey_rounds"
    __table_args__ = (
        UniqueConstraint("survey_id", "sequence", name="uq_survey_rounds_survey_sequence"),
        Index("ix_survey_rounds_status_opens", "status", "opens_at"),
        Index("ix_survey_rounds_status_closes", "status", "closes_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    # The version answered; fixed (and locked) when the round opens.
    version_id: Mapped[int | None] = mapped_column(ForeignKey("survey_versions.id", ondelete="RESTRICT"))
    sequence: Mapped[int] = mapped_column(default=1)
    status: Mapped[RoundStatus] = mapped_column(string_enum(RoundStatus, 12), default=RoundStatus.SCHEDULED)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # One reminder, in the app and through the nudges capability, to those who have not answered.
    remind_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminders_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    audience_kind: Mapped[AudienceKind] = mapped_column(string_enum(AudienceKind, 12),
                                                        default=AudienceKind.EVERYONE)
    audience_team_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    audience_stages: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Milestone audience: people whose start date + milestone_days fell in the milestone_window_days
    # before the round opens (e.g. day 30 after start, looked for over the last 14 days).
    milestone_days: Mapped[int | None]
    milestone_window_days: Mapped[int | None]
    # When set, opening this round schedules the next one this many days later.
    repeat_every_days: Mapped[int | None]
    # Scores show for a group only from this many respondents; fixed once the round opens.
    min_group_size: Mapped[int] = mapped_column(default=DEFAULT_MIN_GROUP_SIZE)
    invited_count: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set once the result cells are built; results pages read nothing else.
    results_built_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    survey: Mapped[Survey] = relationship()
    version: Mapped[SurveyVersion | None] = relationship()

    @property
    def label(self) -> str:
        return f"Round {self.sequence}"

    @property
    def is_open(self) -> bool:
        return self.status is RoundStatus.OPEN

    @property
    def group_size_locked(self) -> bool:
        return self.status is not RoundStatus.SCHEDULED

    def __repr__(self) -> str:
        return f"<SurveyRound {self.survey_id}#{self.sequence} {self.status}>"


class SurveyInvitation(db.Model):
    """Who a round was sent to, with the (coarsened) groups their answer will count towards."""

    __tablename__ = "survey_invitations"
    __table_args__ = (Index("ix_survey_invitations_employee", "employee_id"),)

    round_id: Mapped[int] = mapped_column(ForeignKey("survey_rounds.id", ondelete="CASCADE"),
                                          primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True)
    # Null where the group had fewer invitees than the round's threshold: it could never be shown.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    stage: Mapped[str | None] = mapped_column(String(20))
    tenure_band: Mapped[str | None] = mapped_column(String(12))
    new_hire: Mapped[bool] = mapped_column(default=False)
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    round: Mapped[SurveyRound] = relationship()


class SurveyParticipation(db.Model):
    """That a person answered a round, to the day: no link to what they answered."""

    __tablename__ = "survey_participation"
    __table_args__ = ({"sqlite_with_rowid": False},)

    # The primary key is the "one answer per person per round" rule, also under concurrency.
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_rounds.id", ondelete="CASCADE"),
                                          primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True)
    responded_on: Mapped[date]


class SurveyResponse(db.Model):
    """One anonymous set of answers: a round and coarse groups, no person, no time."""

    __tablename__ = "survey_responses"
    __table_args__ = (
        Index("ix_survey_responses_round", "round_id"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_response_id)
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_rounds.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    stage: Mapped[str | None] = mapped_column(String(20))
    tenure_band: Mapped[str | None] = mapped_column(String(12))

    answers: Mapped[list[SurveyAnswer]] = relationship(cascade="all, delete-orphan")


class SurveyAnswer(db.Model):
    """One answer to one question within an anonymous response."""

    __tablename__ = "survey_answers"
    # No index on question_id: every read goes through a round's responses, and an index here
    # would tempt the planner to scan one question's answers across every round instead.
    __table_args__ = ({"sqlite_with_rowid": False},)

    response_id: Mapped[str] = mapped_column(
        ForeignKey("survey_responses.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("survey_questions.id", ondelete="CASCADE"), primary_key=True
    )
    score: Mapped[int | None]
    choice: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str | None] = mapped_column(Text)


class SurveyResultCell(db.Model):
    """Aggregates of a closed round for one group: every combination of team, stage and tenure.

    A dimension is "*" for everyone, "-" for answers whose group was too small to record, or the
    group's value. The verdicts are written by `touchpoints.surveys.anonymity.judge_round` when the
    round closes, and only that module reads this table.
    """

    __tablename__ = "survey_result_cells"
    __table_args__ = (Index("ix_survey_result_cells_round_pattern", "round_id", "pattern"),)

    round_id: Mapped[int] = mapped_column(ForeignKey("survey_rounds.id", ondelete="CASCADE"),
                                          primary_key=True)
    team: Mapped[str] = mapped_column(String(12), primary_key=True)
    stage: Mapped[str] = mapped_column(String(20), primary_key=True)
    tenure: Mapped[str] = mapped_column(String(12), primary_key=True)
    # Which dimensions are concrete, e.g. "t", "ts", "" for the whole round: an index for slices.
    pattern: Mapped[str] = mapped_column(String(3))
    invited: Mapped[int] = mapped_column(default=0)
    respondents: Mapped[int] = mapped_column(default=0)
    # {question_id: {"n": answers, "dist": {value: count}}}; text questions carry only "n".
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A summary of stats for breakdowns and trends, read without decoding them: the connection
    # questions' answer total and count, the eNPS question's three groups, and the comments.
    connection_sum: Mapped[int] = mapped_column(default=0)
    connection_answers: Mapped[int] = mapped_column(default=0)
    enps_promoters: Mapped[int] = mapped_column(default=0)
    enps_passives: Mapped[int] = mapped_column(default=0)
    enps_detractors: Mapped[int] = mapped_column(default=0)
    comments: Mapped[int] = mapped_column(default=0)
    # The anonymity verdicts, judged over the whole round when it closed ("" when it may show):
    # a reason code (too_few, difference, wider_group_hidden) and the wider group it concerns.
    refusal: Mapped[str] = mapped_column(String(20), default="")
    refusal_parent: Mapped[str] = mapped_column(String(60), default="")
    comment_refusal: Mapped[str] = mapped_column(String(20), default="")
    comment_refusal_parent: Mapped[str] = mapped_column(String(60), default="")
    # Questions not everyone was asked (new hires) that are hidden here: {question_id: [code, parent]}.
    question_refusals: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)


class ConnectionAlert(db.Model):
    """The feedback loop: a team's connection score fell, and a live conversation was planned."""

    __tablename__ = "survey_connection_alerts"
    __table_args__ = (
        UniqueConstraint("round_id", "team_id", name="uq_survey_connection_alerts_round_team"),
        Index("ix_survey_connection_alerts_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_rounds.id", ondelete="CASCADE"))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    score: Mapped[float]
    previous_score: Mapped[float | None]
    # "below", "drop" or "below_and_drop".
    reason: Mapped[str] = mapped_column(String(20))
    hr_partner_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="SET NULL"))
    touchpoint_id: Mapped[int | None] = mapped_column(ForeignKey("touchpoints.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    round: Mapped[SurveyRound] = relationship()
    team = relationship("Team")

    @property
    def reason_label(self) -> str:
        return {"below": "Below the floor", "drop": "Dropped since the last round",
                "below_and_drop": "Below the floor and dropped"}.get(self.reason, self.reason)
    hr_partner = relationship("Employee", foreign_keys=[hr_partner_id])
    touchpoint = relationship("Touchpoint")
