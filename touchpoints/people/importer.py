"""Importing people from an HR system's CSV export: read, validate the file as a whole, write all or nothing.

The file is checked set-based: every existing person is loaded once, managers are resolved and
reporting loops found in memory over the existing people plus the incoming rows, and the
writes are bulk statements. Nothing here touches Flask's request, so the upload pages and
`flask people import` share it.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, insert, select, update

from touchpoints.audit.services import record
from touchpoints.auth.models import Role, User, UserRole, new_session_token
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.people import fields
from touchpoints.people.models import Employee, ImportBatch, LifecycleStatus, Team
from touchpoints.people.services import PARSERS

# Header spellings HR systems use -> the column they mean (headers are compared lowercased,
# with spaces and hyphens read as underscores).
HEADER_ALIASES = {
    "email": "email", "work_email": "email", "email_address": "email",
    "name": "name", "full_name": "name",
    "first_name": "first_name", "given_name": "first_name",
    "last_name": "last_name", "family_name": "last_name", "surname": "last_name",
    "manager_email": "manager_email", "manager_work_email": "manager_email",
    "team": "team", "department": "team",
    "location": "location", "office": "location",
    "country": "country", "country_code": "country",
    "time_zone": "time_zone", "timezone": "time_zone",
    "hire_date": "hire_date", "start_date": "start_date", "exit_date": "exit_date",
    "end_date": "exit_date", "termination_date": "exit_date",
    "status": "status", "lifecycle_status": "status",
    "job_title": "job_title", "title": "job_title",
    "roles": "roles", "is_hr_partner": "is_hr_partner", "is_manager": "is_manager",
}
REQUIRED_COLUMNS = ("email",)
# New people without these get the company default (DEFAULT_COUNTRY, DEFAULT_TIMEZONE), with a
# warning on the preview; people already here keep theirs.
DEFAULTED_COLUMNS = {"country": "country_code", "time_zone": "timezone"}
# Import column -> Employee attribute, for the plain values parsed by the people services.
PLAIN_COLUMNS = {
    "job_title": "job_title", "location": "location", "country": "country_code",
    "time_zone": "timezone", "hire_date": "hire_date", "start_date": "start_date",
    "exit_date": "exit_date", "status": "status",
}
# What each compared attribute is called on the preview page.
LABELS = {
    "full_name": "name", "job_title": "job title", "location": "location",
    "country_code": "country", "timezone": "time zone", "hire_date": "hire date",
    "start_date": "start date", "exit_date": "exit date", "status": "status",
    "team_id": "team", "manager_id": "manager", "roles": "roles", "login": "sign-in",
}
STALE_AFTER = timedelta(hours=24)
_CHUNK = 900  # stays under every driver's limit on bound parameters per statement


class ImportFileError(ValueError):
    """The upload is not a CSV file we can read at all (wrong format or encoding)."""


class ImportRejected(ValueError):
    """Validation found problems, so nothing was written."""

    def __init__(self, preview: ImportPreview):
        super().__init__(f"{len(preview.errors)} problem(s) in the file; nothing was imported.")
        self.preview = preview


class BatchUnavailable(ValueError):
    """The staged upload is gone or was already imported."""


@dataclass(frozen=True)
class RowError:
    """One problem, placed at its row (line in the file) and column (as headed in the file)."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"Row {self.row}, {self.column}: {self.message}"


@dataclass
class ImportRow:
    """One person in the file, parsed; only columns present in the file are in values."""

    row: int
    key: str
    email: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    team_name: str | None = None
    manager_key: str | None = None
    listed_roles: frozenset[Role] | None = None  # from a roles column: exactly these
    role_flags: dict[Role, bool] = field(default_factory=dict)  # from is_hr_partner / is_manager
    roles: frozenset[Role] = frozenset()  # what the person will have after the import
    existing_id: int | None = None
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    login_missing: bool = False
    valid: bool = True
    is_new: bool = False

    @property
    def name(self) -> str:
        return self.values.get("full_name", "")


@dataclass
class ImportPreview:
    """What importing the file would do, and everything wrong with it."""

    rows: list[ImportRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    new_teams: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # import column -> header in the file
    defaults: dict[str, str] = field(default_factory=dict)  # attribute -> company default
    existing: _Existing | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def new(self) -> list[ImportRow]:
        return [r for r in self.rows if r.valid and r.is_new]

    @property
    def updated(self) -> list[ImportRow]:
        return [r for r in self.rows if r.valid and not r.is_new and r.changes]

    @property
    def unchanged(self) -> list[ImportRow]:
        return [r for r in self.rows if r.valid and not r.is_new and not r.changes]

    @property
    def changing(self) -> int:
        return len(self.new) + len(self.updated)

    def summary(self) -> str:
        """The one-line count HR reads before importing."""
        return (f"{len(self.new)} new, {len(self.updated)} updated, "
                f"{len(self.unchanged)} unchanged")


@dataclass(frozen=True)
class ImportOutcome:
    """What an import wrote."""

    created: int
    updated: int
    unchanged: int
    new_teams: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def summary(self) -> str:
        return f"{self.created} new, {self.updated} updated, {self.unchanged} unchanged"


# --- reading the file ---------------------------------------------------------------------------

def decode_upload(data: bytes) -> str:
    """The file as text: UTF-8 with or without BOM (or UTF-16 with a BOM), else Windows-1252."""
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError("This is a spreadsheet workbook, not a CSV file. In your spreadsheet "
                              "program choose Save as / Download as → CSV, then upload that file.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise ImportFileError("The file says it is UTF-16 text but cannot be read as such.") from None
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                raise ImportFileError("The file is neither UTF-8 nor Windows-1252 text. Export it "
                                      "again as CSV (UTF-8).") from None
    if "\x00" in text:
        raise ImportFileError("The file contains binary data; upload a CSV text file.")
    return text


def _delimiter(text: str) -> str:
    """Comma unless the header line clearly uses semicolons or tabs (common in European exports)."""
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number where the record starts, cells) for each record, blank lines skipped."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=False)
    line = 1
    for cells in reader:
        start, line = line, reader.line_num + 1
        if any(cell.strip() for cell in cells):
            yield start, cells


def _header_key(raw: str) -> str:
    return "_".join(raw.strip().lower().replace("-", " ").replace("_", " ").split())


# --- validation ---------------------------------------------------------------------------------

@dataclass
class _Existing:
    """Everyone already in Touchpoints, loaded in three queries."""

    by_key: dict[str, tuple] = field(default_factory=dict)  # lower(email) -> employee row
    key_by_id: dict[int, str] = field(default_factory=dict)
    manager_by_key: dict[str, str | None] = field(default_factory=dict)
    teams: dict[str, int] = field(default_factory=dict)  # lower(name) -> id
    team_names: dict[int, str] = field(default_factory=dict)
    roles: dict[int, frozenset[Role]] = field(default_factory=dict)  # employee id -> roles
    active: set[int] = field(default_factory=set)  # ids of people not deactivated


_COMPARED = ("full_name", "job_title", "location", "country_code", "timezone", "hire_date",
             "start_date", "exit_date", "status", "team_id")


def _load_existing() -> _Existing:
    existing = _Existing()
    columns = [getattr(Employee, name) for name in _COMPARED]
    rows = db.session.execute(
        select(Employee.id, func.lower(Employee.email), Employee.email, Employee.manager_id,
               Employee.deactivated_at, *columns)
    ).all()
    manager_ids = {}
    for row in rows:
        existing.by_key[row[1]] = row
        existing.key_by_id[row[0]] = row[1]
        manager_ids[row[1]] = row[3]
        if row[4] is None:
            existing.active.add(row[0])
    existing.manager_by_key = {
        key: existing.key_by_id.get(manager_id) if manager_id else None
        for key, manager_id in manager_ids.items()
    }
    for team_id, name in db.session.execute(select(Team.id, Team.name)):
        existing.teams[name.lower()] = team_id
        existing.team_names[team_id] = name
    roles: dict[int, set[Role]] = {}
    for employee_id, role in db.session.execute(
        select(User.employee_id, UserRole.role).outerjoin(UserRole, UserRole.user_id == User.id)
    ):
        bucket = roles.setdefault(employee_id, set())
        if role:
            bucket.add(Role(role))
    existing.roles = {k: frozenset(v) for k, v in roles.items()}
    return existing


class _RowReader:
    """Turns one record into an ImportRow, collecting every problem on the way."""

    def __init__(self, index: dict[str, int], labels: dict[str, str], width: int,
                 preview: ImportPreview):
        self.index, self.labels, self.width, self.preview = index, labels, width, preview
        self._manager_emails: dict[str, str | fields.FieldError] = {}

    def cell(self, cells: list[str], column: str) -> str:
        position = self.index[column]
        return cells[position] if position < len(cells) else ""

    def fail(self, item: ImportRow, column: str, message: str) -> None:
        item.valid = False
        self.preview.errors.append(RowError(item.row, self.labels.get(column, column), message))

    def read(self, line: int, cells: list[str]) -> ImportRow:
        item = ImportRow(row=line, key="")
        if len(cells) > self.width and any(cell.strip() for cell in cells[self.width:]):
            self.fail(item, "(whole row)", f"This row has {len(cells)} cells but the header has "
                                           f"{self.width}; check for stray commas or quotes.")
        try:
            item.email = fields.parse_email(self.cell(cells, "email"))
            item.key = item.email.lower()
        except fields.FieldError as error:
            self.fail(item, "email", str(error))
            item.key = self.cell(cells, "email").strip().lower()
        self._read_name(item, cells)
        for column, attribute in PLAIN_COLUMNS.items():
            if column not in self.index:
                continue
            raw = self.cell(cells, column)
            if (column == "status" or column in DEFAULTED_COLUMNS) and not raw.strip():
                continue  # blank: today's value stays (the default for someone new)
            try:
                item.values[attribute] = PARSERS[attribute](raw)
            except fields.FieldError as error:
                self.fail(item, column, str(error))
        exit_date, start_date = item.values.get("exit_date"), item.values.get("start_date")
        if exit_date and start_date and exit_date < start_date:
            self.fail(item, "exit_date", "The exit date cannot be before the start date.")
        if "team" in self.index:
            name = self.cell(cells, "team").strip()
            if len(name) > 120:
                self.fail(item, "team", "Keep team names under 120 characters.")
            item.team_name = name
        if "manager_email" in self.index:
            self._read_manager(item, self.cell(cells, "manager_email"))
        self._read_roles(item, cells)
        return item

    def _read_name(self, item: ImportRow, cells: list[str]) -> None:
        if "name" in self.index:
            column, raw = "name", self.cell(cells, "name")
        else:
            column = "first_name"
            raw = f"{self.cell(cells, 'first_name').strip()} {self.cell(cells, 'last_name').strip()}"
        try:
            item.values["full_name"] = PARSERS["full_name"](raw)
        except fields.FieldError as error:
            self.fail(item, column, str(error))

    def _read_manager(self, item: ImportRow, raw: str) -> None:
        raw = raw.strip()
        if not raw:
            return
        parsed = self._manager_emails.get(raw)
        if parsed is None:  # most rows share a few managers: check each address once
            try:
                parsed = fields.parse_email(raw)
            except fields.FieldError as error:
                parsed = error
            self._manager_emails[raw] = parsed
        if isinstance(parsed, fields.FieldError):
            self.fail(item, "manager_email", str(parsed))
        else:
            item.manager_key = parsed.lower()

    def _read_roles(self, item: ImportRow, cells: list[str]) -> None:
        if "roles" in self.index:
            try:
                item.listed_roles = fields.parse_roles(self.cell(cells, "roles"))
            except fields.FieldError as error:
                self.fail(item, "roles", str(error))
        for column, role in (("is_hr_partner", Role.HR_PARTNER), ("is_manager", Role.MANAGER)):
            if column in self.index:
                try:
                    item.role_flags[role] = fields.parse_flag(self.cell(cells, column))
                except fields.FieldError as error:
                    self.fail(item, column, str(error))


def _read_header(cells: list[str], preview: ImportPreview) -> dict[str, int] | None:
    index: dict[str, int] = {}
    unknown = []
    for position, raw in enumerate(cells):
        column = HEADER_ALIASES.get(_header_key(raw))
        if column is None:
            if raw.strip():
                unknown.append(raw.strip())
            continue
        if column in index:
            preview.errors.append(RowError(1, raw.strip(), f"This column appears twice (also as "
                                                           f"'{preview.columns[column]}')."))
            continue
        index[column] = position
        preview.columns[column] = raw.strip()
    if unknown:
        preview.warnings.append("These columns are not used and will be ignored: "
                                + ", ".join(unknown) + ".")
    missing = [c for c in REQUIRED_COLUMNS if c not in index]
    if "name" not in index and not {"first_name", "last_name"} <= index.keys():
        missing.insert(1, "name (or first_name and last_name)")
    for column in missing:
        preview.errors.append(RowError(1, column, "This column is required but missing from the "
                                                  "header row."))
    return None if preview.errors else index


def validate_import(text: str, *, default_country: str | None = None,
                    default_timezone: str | None = None) -> ImportPreview:
    """Check a whole CSV file against itself and against everyone already in Touchpoints.

    New people the file gives no country or time zone get the defaults (by default the app's
    DEFAULT_COUNTRY and DEFAULT_TIMEZONE).
    """
    preview = ImportPreview(defaults={
        "country_code": default_country or current_app.config["DEFAULT_COUNTRY"],
        "timezone": default_timezone or current_app.config["DEFAULT_TIMEZONE"],
    })
    records = _records(text)
    first = next(records, None)
    if first is None:
        preview.errors.append(RowError(1, "(file)", "The file is empty; it needs a header row "
                                                    "and one row per person."))
        return preview
    index = _read_header(first[1], preview)
    if index is None:
        return preview
    labels = {column: preview.columns[column] for column in index}
    reader = _RowReader(index, labels, len(first[1]), preview)
    seen: dict[str, int] = {}
    for line, cells in records:
        item = reader.read(line, cells)
        if item.key:
            if item.key in seen:
                reader.fail(item, "email", f"{item.email or item.key} is already on row "
                                           f"{seen[item.key]} (emails are matched whatever their "
                                           "case).")
            else:
                seen[item.key] = line
        preview.rows.append(item)
    if not preview.rows:
        preview.errors.append(RowError(2, "(file)", "The file has a header row but no people."))
        return preview

    existing = preview.existing = _load_existing()
    _resolve_managers(preview, existing, reader)
    _find_reporting_loops(preview, existing, reader)
    _compare(preview, existing, index)
    _warn_about_defaults(preview)
    preview.errors.sort(key=lambda e: e.row)
    return preview


def _warn_about_defaults(preview: ImportPreview) -> None:
    new = preview.new
    for column, attribute in DEFAULTED_COLUMNS.items():
        missing = sum(1 for item in new if attribute not in item.values)
        if missing:
            what = "country" if column == "country" else "time zone"
            who = "1 new person has" if missing == 1 else f"{missing} new people have"
            preview.warnings.append(
                f"{who} no {what} in the file and will get {preview.defaults[attribute]}, the company "
                f"default. Add a {column} column to give each person their own.")


def _resolve_managers(preview: ImportPreview, existing: _Existing, reader: _RowReader) -> None:
    in_file = {item.key for item in preview.rows if item.key}
    for item in preview.rows:
        key = item.manager_key
        if key and key not in in_file and key not in existing.by_key:
            reader.fail(item, "manager_email", f"No one in this file or in Touchpoints has the "
                                               f"email {key}.")
            item.manager_key = None


def _final_managers(preview: ImportPreview, existing: _Existing, has_manager_column: bool
                    ) -> dict[str, str | None]:
    """Everyone's manager after the import: the file's word for its rows, today's for the rest."""
    managers = dict(existing.manager_by_key)
    if has_manager_column:
        for item in preview.rows:
            if item.key:
                managers[item.key] = item.manager_key
    return managers


def _find_reporting_loops(preview: ImportPreview, existing: _Existing, reader: _RowReader) -> None:
    if "manager_email" not in reader.index:
        return
    managers = _final_managers(preview, existing, True)
    rows_by_key = {item.key: item for item in preview.rows if item.key}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    for start in rows_by_key:
        path: list[str] = []
        node: str | None = start
        while node is not None and state.get(node) is None:
            state[node] = 1
            path.append(node)
            node = managers.get(node)
        if node is not None and state.get(node) == 1:
            loop = path[path.index(node):]
            names = " → ".join([*loop, node])
            for key in loop:
                item = rows_by_key.get(key)
                if item is None:
                    continue
                message = ("A person cannot be their own manager." if len(loop) == 1
                           else f"This makes a reporting loop: {names}.")
                reader.fail(item, "manager_email", message)
        for key in path:
            state[key] = 2


def _compare(preview: ImportPreview, existing: _Existing, index: dict[str, int]) -> None:
    """Mark each valid row new, updated (with what changes) or unchanged."""
    governs_manager = "roles" in index or "is_manager" in index
    managers = _final_managers(preview, existing, "manager_email" in index)
    with_reports = {m for m in managers.values() if m}
    new_teams: dict[str, str] = {}
    for item in preview.rows:
        if item.team_name and item.team_name.lower() not in existing.teams:
            new_teams.setdefault(item.team_name.lower(), item.team_name)
    preview.new_teams = sorted(new_teams.values(), key=str.lower)
    for item in preview.rows:
        if not item.valid:
            continue
        manages = item.key in with_reports and not governs_manager
        current = existing.by_key.get(item.key)
        if current is None:
            item.roles, item.is_new = _target_roles(item, frozenset(), manages), True
            continue
        item.existing_id = current[0]
        item.email = current[2]  # the stored spelling stays; emails match whatever their case
        now = dict(zip(_COMPARED, current[5:], strict=True))
        if _exit_before_kept_start(item, now, preview):
            continue
        for attribute, value in item.values.items():
            if now[attribute] != value:
                item.changes[attribute] = (now[attribute], value)
        if item.team_name is not None:
            team_id = existing.teams.get(item.team_name.lower()) if item.team_name else None
            if team_id != now["team_id"] or (item.team_name and team_id is None):
                before = existing.team_names.get(now["team_id"]) if now["team_id"] else None
                item.changes["team_id"] = (before, item.team_name or None)
        if "manager_email" in index and managers[item.key] != existing.manager_by_key.get(item.key):
            item.changes["manager_id"] = (existing.manager_by_key.get(item.key), item.manager_key)
        have = existing.roles.get(item.existing_id)
        item.login_missing = have is None
        if item.login_missing:
            item.changes["login"] = (None, "created")
        have = have or frozenset()
        item.roles = _target_roles(item, have, manages)
        if item.roles != (have | {Role.EMPLOYEE}) or (item.login_missing
                                                      and item.roles != {Role.EMPLOYEE}):
            item.changes["roles"] = (_role_text(have), _role_text(item.roles))
    if "roles" in index or "is_hr_partner" in index:
        _keep_an_hr_partner(preview, existing)


def _keep_an_hr_partner(preview: ImportPreview, existing: _Existing) -> None:
    """A roles column may not take the HR partner role from every active HR partner."""
    before = {i for i, roles in existing.roles.items() if Role.HR_PARTNER in roles and i in existing.active}
    after = set(before)
    dropping = []
    for item in preview.rows:
        if not item.valid:
            continue
        if Role.HR_PARTNER in item.roles:
            if item.is_new or item.existing_id in existing.active:
                after.add(item.existing_id if not item.is_new else -item.row)
        elif item.existing_id in before:
            after.discard(item.existing_id)
            dropping.append(item)
    if before and not after:
        column = preview.columns.get("roles") or preview.columns.get("is_hr_partner", "roles")
        for item in dropping:
            item.valid = False
            preview.errors.append(RowError(
                item.row, column, "This takes the HR partner role from the last active HR partner; "
                                  "keep at least one (Touchpoints needs someone to run it)."))


def _exit_before_kept_start(item: ImportRow, now: dict[str, Any], preview: ImportPreview) -> bool:
    """An exit date from the file before the start date already held (or the other way round)."""
    in_file = {"start_date", "exit_date"} & item.values.keys()
    if len(in_file) != 1:
        return False  # both in the file were checked with the row; neither: nothing changes
    start = item.values.get("start_date", now["start_date"])
    leaving = item.values.get("exit_date", now["exit_date"])
    if not (start and leaving and leaving < start):
        return False
    column = "exit_date" if "exit_date" in in_file else "start_date"
    held = "start" if column == "exit_date" else "exit"
    item.valid = False
    preview.errors.append(RowError(item.row, preview.columns[column],
                                   f"The exit date cannot be before the start date ({held} date "
                                   f"held today: {now[f'{held}_date'].isoformat()})."))
    return True


def _target_roles(item: ImportRow, have: frozenset[Role], manages: bool) -> frozenset[Role]:
    """Roles after the import: a roles column sets them all, a flag column sets its own role,
    and without either for the manager role, people with reports gain it (never lose it)."""
    roles = {Role.EMPLOYEE, *(have if item.listed_roles is None else item.listed_roles)}
    for role, on in item.role_flags.items():
        if on:
            roles.add(role)
        else:
            roles.discard(role)
    if manages:
        roles.add(Role.MANAGER)
    return frozenset(roles)


def _role_text(roles: Iterable[Role]) -> str:
    return ", ".join(sorted(r.label for r in roles if r is not Role.EMPLOYEE)) or "Employee"


# --- writing ------------------------------------------------------------------------------------

def _chunks(items: list, size: int = _CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def apply_import(text: str, *, filename: str, actor_id: int | None) -> ImportOutcome:
    """Validate again and write every row in the current transaction; the caller commits.

    Raises ImportRejected (nothing written) when the file has problems. On any failure the
    session is rolled back, so a half-written import never reaches the database.
    """
    try:
        preview = validate_import(text)
        if not preview.ok:
            raise ImportRejected(preview)
        new, updated = preview.new, preview.updated
        outcome = _write(preview)
        _tell_journeys(preview, new, updated, actor_id)
        if outcome.created or outcome.updated:
            record("people.imported", "import", None, actor_id=actor_id,
                   summary=f"Imported {filename}: {outcome.summary()}",
                   after={"filename": filename, "created": outcome.created,
                          "updated": outcome.updated, "unchanged": outcome.unchanged,
                          "new_teams": list(outcome.new_teams)})
        db.session.flush()
    except Exception:
        db.session.rollback()
        raise
    return outcome


def _write(preview: ImportPreview) -> ImportOutcome:
    session = db.session
    existing = preview.existing
    assert existing is not None
    team_ids = dict(existing.teams)
    # Core executemany on the tables, then one query per chunk for the new ids: the ORM's bulk
    # insert splits rows into many statements, and RETURNING goes row by row on SQLite.
    if preview.new_teams:
        stamp = utcnow()
        session.execute(insert(Team.__table__), [
            {"name": name, "description": "", "created_at": stamp} for name in preview.new_teams
        ])
        for chunk in _chunks([name.lower() for name in preview.new_teams]):
            team_ids.update(session.execute(
                select(func.lower(Team.name), Team.id).where(func.lower(Team.name).in_(chunk))
            ).all())
    ids = {key: row[0] for key, row in existing.by_key.items()}

    def team_id(item: ImportRow) -> int | None:
        return team_ids[item.team_name.lower()] if item.team_name else None

    new, updated, unchanged = preview.new, preview.updated, len(preview.unchanged)
    now = utcnow()
    for wave in _waves(new, ids):
        rows = []
        for item in wave:
            row = {"email": item.email, "job_title": "", "location": "", "hire_date": None,
                   "start_date": None, "exit_date": None, "status": LifecycleStatus.ACTIVE,
                   "team_id": None, "created_at": now, "updated_at": now, **preview.defaults,
                   **item.values,
                   "manager_id": ids[item.manager_key] if item.manager_key else None}
            if item.team_name is not None:
                row["team_id"] = team_id(item)
            rows.append(row)
        session.execute(insert(Employee.__table__), rows)
        for chunk in _chunks([item.key for item in wave]):
            ids.update(session.execute(
                select(func.lower(Employee.email), Employee.id)
                .where(func.lower(Employee.email).in_(chunk))
            ).all())
        for item in wave:
            item.existing_id = ids[item.key]

    changes = []
    for item in updated:
        row = {"id": item.existing_id, "updated_at": now}
        row.update({k: v for k, v in item.values.items() if k in item.changes})
        if "team_id" in item.changes:
            row["team_id"] = team_id(item)
        if "manager_id" in item.changes:
            row["manager_id"] = ids[item.manager_key] if item.manager_key else None
        changes.append(row)
    _bulk_update(changes)
    _write_logins(new, updated)
    return ImportOutcome(created=len(new), updated=len(updated), unchanged=unchanged,
                         new_teams=tuple(preview.new_teams), warnings=tuple(preview.warnings))


# What journeys react to when it changes on someone already here (see journeys.lifecycle).
LIFECYCLE_FIELDS = ("start_date", "exit_date", "status", "manager_id")


def _lifecycle_value(value: Any) -> Any:
    """A value as the people services' snapshots carry it (ISO dates, enum values)."""
    if isinstance(value, LifecycleStatus):
        return value.value
    return value.isoformat() if hasattr(value, "isoformat") else value


def _tell_journeys(preview: ImportPreview, new: list[ImportRow], updated: list[ImportRow],
                   actor_id: int | None) -> None:
    """New hires enter their journeys in one set-based pass; lifecycle changes move touchpoints."""
    from touchpoints.journeys.lifecycle import on_employee_changed, on_people_imported

    on_people_imported([item.existing_id for item in new], actor_id=actor_id)
    moved = [item for item in updated if set(item.changes) & set(LIFECYCLE_FIELDS)]
    if not moved:
        return
    existing = preview.existing
    assert existing is not None
    people: dict[int, Employee] = {}
    for chunk in _chunks([item.existing_id for item in moved]):
        people.update((e.id, e) for e in db.session.scalars(select(Employee).where(Employee.id.in_(chunk))))
    for item in moved:
        row = existing.by_key[item.key]
        now = dict(zip(_COMPARED, row[5:], strict=True))
        before = {"start_date": now["start_date"], "exit_date": now["exit_date"],
                  "status": now["status"], "manager_id": row[3]}
        after = dict(before)
        for name in ("start_date", "exit_date", "status"):
            if name in item.changes:
                after[name] = item.changes[name][1]
        employee = people[item.existing_id]
        after["manager_id"] = employee.manager_id
        on_employee_changed(employee, {k: _lifecycle_value(v) for k, v in before.items()},
                            {k: _lifecycle_value(v) for k, v in after.items()}, actor_id=actor_id)


def _waves(new: list[ImportRow], known: dict[str, int]) -> Iterator[list[ImportRow]]:
    """New people in insert order: each wave's managers already exist (no loops by now)."""
    waiting = list(new)
    ready = set(known)
    while waiting:
        wave = [item for item in waiting if not item.manager_key or item.manager_key in ready]
        if not wave:  # validation guarantees this never happens; refuse rather than loop forever
            raise RuntimeError("new people whose managers are neither known nor being imported")
        ready.update(item.key for item in wave)
        waiting = [item for item in waiting if item.key not in ready]
        yield wave


def _bulk_update(rows: list[dict[str, Any]]) -> None:
    """ORM bulk UPDATE by primary key, one executemany per shape of row."""
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        shapes.setdefault(tuple(sorted(row)), []).append(row)
    for batch in shapes.values():
        db.session.execute(update(Employee), batch)


def _write_logins(new: list[ImportRow], updated: list[ImportRow]) -> None:
    """Logins (must change password, no password yet) for new people; roles where they change."""
    session = db.session
    needs_login = [*new, *(item for item in updated if item.login_missing)]
    user_ids: dict[int, int] = {}
    if needs_login:
        session.execute(insert(User.__table__), [
            {"employee_id": item.existing_id, "password_hash": None, "must_change_password": True,
             "session_token": new_session_token(), "created_at": utcnow()} for item in needs_login
        ])
        for chunk in _chunks([item.existing_id for item in needs_login]):
            user_ids.update(session.execute(
                select(User.employee_id, User.id).where(User.employee_id.in_(chunk))
            ).all())
    role_changes = [item for item in updated if "roles" in item.changes and not item.login_missing]
    if role_changes:
        for chunk in _chunks([item.existing_id for item in role_changes]):
            user_ids.update(dict(session.execute(
                select(User.employee_id, User.id).where(User.employee_id.in_(chunk))
            ).all()))
            session.execute(
                delete(UserRole).where(UserRole.user_id.in_([user_ids[e] for e in chunk])),
                execution_options={"synchronize_session": False},
            )
    role_rows = [{"user_id": user_ids[item.existing_id], "role": role.value}
                 for item in [*needs_login, *role_changes] for role in sorted(item.roles)]
    if role_rows:
        session.execute(insert(UserRole.__table__), role_rows)


# --- staged uploads (between preview and commit) -------------------------------------------------

def stage_upload(data: bytes, *, filename: str, uploaded_by_id: int | None) -> ImportBatch:
    """Keep an uploaded file in the database until HR commits it (works across web workers)."""
    text = decode_upload(data)
    db.session.execute(
        delete(ImportBatch).where(ImportBatch.committed_at.is_(None),
                                  ImportBatch.created_at < utcnow() - STALE_AFTER)
    )
    batch = ImportBatch(filename=(filename or "people.csv")[:255], content=text,
                        uploaded_by_id=uploaded_by_id)
    db.session.add(batch)
    db.session.flush()
    return batch


def pending_batch(batch_id: int) -> ImportBatch:
    """A staged upload that can still be imported."""
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.committed_at is not None:
        raise BatchUnavailable("That upload was already imported or has expired; upload the file "
                               "again.")
    return batch


def commit_batch(batch_id: int, *, actor_id: int | None) -> ImportOutcome:
    """Import a staged upload exactly once (validated again); the caller commits the transaction."""
    batch = pending_batch(batch_id)
    content, filename = batch.content, batch.filename
    # Claiming the batch in the same transaction makes a double click or a second worker a no-op.
    claimed = db.session.execute(
        update(ImportBatch).where(ImportBatch.id == batch_id, ImportBatch.committed_at.is_(None))
        .values(committed_at=utcnow(), content=""),
        execution_options={"synchronize_session": False},
    )
    if claimed.rowcount != 1:
        db.session.rollback()
        raise BatchUnavailable("That upload was already imported; nothing more was done.")
    db.session.expire(batch)
    return apply_import(content, filename=filename, actor_id=actor_id)
