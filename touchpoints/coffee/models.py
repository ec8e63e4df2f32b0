"""Coffee pairing: the programme's settings, who takes part, pairing rounds and the groups they made."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from touchpoints.db_types import UTCDateTime, utcnow
from touchpoints.extensions import db

FREQUENCIES = (1, 2, 4)  # weeks between two coffees a person may choose


class CoffeeProgramme(db.Model):
    """The one set of programme settings HR keeps (a single row, id 1)."""

    __tablename__ = "coffee_programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    # Rounds run on this ISO weekday (1 = Monday), in UTC.
    round_weekday: Mapped[int] = mapped_column(default=1)
    # Hard rule: two people are not paired again within this many days.
    repeat_window_days: Mapped[int] = mapped_column(default=90)
    # The shared working hours a pair needs, in minutes, on the round's date.
    min_overlap_minutes: Mapped[int] = mapped_column(default=60)
    # Which frequencies people may choose, e.g. "1,2,4".
    frequencies: Mapped[str] = mapped_column(String(20), default="1,2,4")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def frequency_options(self) -> tuple[int, ...]:
        """The frequencies (weeks) people may choose, in order."""
        chosen = {int(part) for part in self.frequencies.split(",") if part.strip().isdigit()}
        return tuple(f for f in FREQUENCIES if f in chosen) or FREQUENCIES


class CoffeeParticipant(db.Model):
    """One person's opt-in: never created for anyone who did not ask."""

    __tablename__ = "coffee_participants"
    __table_args__ = (Index("ix_coffee_participants_active_due", "active", "next_due_on"),)

    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True)
    active: Mapped[bool] = mapped_column(default=True)
    frequency_weeks: Mapped[int] = mapped_column(default=2)
    # No pairing before this date (a pause); null when not paused.
    paused_until: Mapped[date | None]
    # The first round date this person is due again (set after each pairing).
    next_due_on: Mapped[date | None]
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    employee = relationship("Employee", foreign_keys=[employee_id])


class CoffeeRound(db.Model):
    """One pairing round: its date (run once), its seed, and what it made."""

    __tablename__ = "coffee_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_on: Mapped[date] = mapped_column(unique=True)
    # Same seed and same participants give the same pairs.
    seed: Mapped[int] = mapped_column(BigInteger)
    repeat_window_days: Mapped[int] = mapped_column(default=90)
    min_overlap_minutes: Mapped[int] = mapped_column(default=60)
    participants: Mapped[int] = mapped_column(default=0)
    pairs: Mapped[int] = mapped_column(default=0)
    trios: Mapped[int] = mapped_column(default=0)
    unpaired: Mapped[int] = mapped_column(default=0)
    cross_team_groups: Mapped[int] = mapped_column(default=0)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    duration_ms: Mapped[int] = mapped_column(default=0)

    @property
    def groups(self) -> int:
        return self.pairs + self.trios

    @property
    def cross_team_share(self) -> float | None:
        return self.cross_team_groups / self.groups if self.groups else None


class CoffeeMatch(db.Model):
    """A pair or a group of three made by a round."""

    __tablename__ = "coffee_matches"
    __table_args__ = (UniqueConstraint("round_id", "position", name="uq_coffee_matches_round_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("coffee_rounds.id", ondelete="CASCADE"))
    # The group's place in its round: lets a bulk insert map the ids it gets back to its groups.
    position: Mapped[int] = mapped_column(default=0)
    size: Mapped[int] = mapped_column(default=2)
    cross_team: Mapped[bool] = mapped_column(default=False)
    # Everyone's working hours overlap here on the round's date (UTC); null when none is needed.
    overlap_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overlap_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    round: Mapped[CoffeeRound] = relationship()
    members: Mapped[list[CoffeeMember]] = relationship(back_populates="match", order_by="CoffeeMember.id")


class CoffeeMember(db.Model):
    """One person in a pair or group, with the coffee-chat touchpoint that is theirs."""

    __tablename__ = "coffee_members"
    __table_args__ = (
        UniqueConstraint("round_id", "employee_id", name="uq_coffee_members_round_employee"),
        Index("ix_coffee_members_employee", "employee_id"),
        Index("ix_coffee_members_match", "match_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("coffee_matches.id", ondelete="CASCADE"))
    round_id: Mapped[int] = mapped_column(ForeignKey("coffee_rounds.id", ondelete="CASCADE"))
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    touchpoint_id: Mapped[int | None] = mapped_column(ForeignKey("touchpoints.id", ondelete="SET NULL"))

    match: Mapped[CoffeeMatch] = relationship(back_populates="members")
    employee = relationship("Employee", foreign_keys=[employee_id])
    touchpoint = relationship("Touchpoint", foreign_keys=[touchpoint_id])


class CoffeeUnpaired(db.Model):
    """Someone due in a round whom it could not pair, and why (they stay due for the next round)."""

    __tablename__ = "coffee_unpaired"
    __table_args__ = (
        UniqueConstraint("round_id", "employee_id", name="uq_coffee_unpaired_round_employee"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("coffee_rounds.id", ondelete="CASCADE"))
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(300))

    employee = relationship("Employee", foreign_keys=[employee_id])
