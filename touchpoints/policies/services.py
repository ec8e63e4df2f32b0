"""Human-touch policies: create and edit drafts, dry-run, activate, restore; load and export files.

Pages, the API and the CLI all come through here. Services never commit (the caller does), and
every change is in the audit log with its before and after.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from touchpoints.audit.models import AuditEntry
from touchpoints.audit.services import record
from touchpoints.db_types import utcnow
from touchpoints.extensions import db
from touchpoints.people.models import Team
from touchpoints.policies.engine.evaluation import ActivePolicy, ComplianceReport, active_policies, evaluate
from touchpoints.policies.files import FilePolicy, PolicyFileError, dump_policies, read_policy_files
from touchpoints.policies.models import Policy, PolicyVersion, VersionStatus
from touchpoints.policies.rules import PolicySpec, RuleError, parse_policy, rule_from_version, scope_from_data

# The shipped pack: the top-level policies/ folder of the project.
DEFAULT_POLICY_DIR = Path(__file__).resolve().parents[2] / "policies"


class PolicyError(Exception):
    """Base of every refusal by the policy services."""


class PolicyValidationError(PolicyError, ValueError):
    """A definition that cannot be saved; `errors` maps each field path to its reason."""

    def __init__(self, errors: Mapping[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


class PolicyStateError(PolicyError):
    """An action that cannot happen to this policy now (nothing to activate, already off)."""


# ---------------------------------------------------------------- reading


def spec_of(version: PolicyVersion) -> PolicySpec:
    """The definition a stored version holds."""
    return PolicySpec(key=version.policy.key, name=version.name,
                      rule=rule_from_version(version.rule_kind, version.params),
                      scope=scope_from_data(version.scope), severity=version.severity,
                      description=version.description or "")


def version_data(version: PolicyVersion | None) -> dict[str, Any] | None:
    """A version as plain values, for the audit log's before and after."""
    if version is None:
        return None
    return {"version": version.number, "status": version.status.value, **spec_of(version).as_data()}


def get_policy(policy_id: int) -> Policy | None:
    """A policy with its versions."""
    return db.session.scalar(select(Policy).options(selectinload(Policy.versions))
                             .where(Policy.id == policy_id))


def policy_by_key(key: str) -> Policy | None:
    return db.session.scalar(select(Policy).where(Policy.key == key))


def active_version(policy: Policy) -> PolicyVersion | None:
    return next((v for v in policy.versions if v.status is VersionStatus.ACTIVE), None)


def draft_version(policy: Policy) -> PolicyVersion | None:
    return next((v for v in policy.versions if v.status is VersionStatus.DRAFT), None)


def version_of(policy: Policy, number: int) -> PolicyVersion | None:
    return next((v for v in policy.versions if v.number == number), None)


@dataclass
class PolicyRow:
    """One line of the policies list: the policy, what is enforced, what is being edited."""

    policy: Policy
    active: PolicyVersion | None
    draft: PolicyVersion | None
    latest: PolicyVersion


def list_policies() -> list[PolicyRow]:
    """Every policy with its active and draft versions, in two queries."""
    policies = list(db.session.scalars(select(Policy).options(selectinload(Policy.versions))
                                       .order_by(Policy.name)))
    rows = []
    for policy in policies:
        if not policy.versions:
            continue
        rows.append(PolicyRow(policy, active_version(policy), draft_version(policy), policy.versions[-1]))
    return rows


def policy_history(policy: Policy, limit: int = 100) -> list[AuditEntry]:
    """The audit entries about this policy, newest first, with who made them."""
    return list(db.session.scalars(
        select(AuditEntry).options(joinedload(AuditEntry.actor))
        .where(AuditEntry.subject_type == "policy", AuditEntry.subject_id == policy.id)
        .order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc()).limit(limit)))


# ---------------------------------------------------------------- checking


def _unknown_teams(spec: PolicySpec) -> dict[str, str]:
    """Scope teams that do not exist (by name, whatever the case): a typo would silently match no one."""
    if not spec.scope.teams:
        return {}
    known = {name.lower() for name in db.session.scalars(
        select(Team.name).where(func.lower(Team.name).in_([t.lower() for t in spec.scope.teams])))}
    return {f"scope.teams[{index}]": f"there is no team called '{team}'."
            for index, team in enumerate(spec.scope.teams) if team.lower() not in known}


def check_definition(data: Mapping[str, Any], *, key: str | None = None) -> PolicySpec:
    """A checked definition (the key fixed when editing); PolicyValidationError names each bad field."""
    data = dict(data)
    if key is not None:
        data["key"] = key
    try:
        spec = parse_policy(data)
    except RuleError as error:
        raise PolicyValidationError(error.errors) from None
    problems = _unknown_teams(spec)
    if problems:
        raise PolicyValidationError(problems)
    return spec


# ---------------------------------------------------------------- changing


def _next_number(policy: Policy) -> int:
    return max((v.number for v in policy.versions), default=0) + 1


def _apply(version: PolicyVersion, spec: PolicySpec) -> None:
    version.name = spec.name
    version.description = spec.description
    version.rule_kind = spec.rule_kind
    version.params = spec.rule.to_params()
    version.scope = spec.scope.to_data()
    version.severity = spec.severity


def create_policy(data: Mapping[str, Any], *, actor_id: int | None, change_note: str = "") -> PolicyVersion:
    """A new policy whose first version is a draft: HR reads its dry run before activating it."""
    spec = check_definition(data)
    if policy_by_key(spec.key) is not None:
        raise PolicyValidationError({"key": f"'{spec.key}' is already used by another policy."})
    policy = Policy(key=spec.key, name=spec.name, created_by_id=actor_id)
    version = PolicyVersion(policy=policy, number=1, status=VersionStatus.DRAFT, created_by_id=actor_id,
                            change_note=change_note[:300])
    _apply(version, spec)
    db.session.add(policy)
    db.session.flush()
    record("policy.created", "policy", policy.id, actor_id=actor_id,
           summary=f"Created policy {spec.name} (draft v1)", before=None, after=version_data(version))
    return version


def save_draft(policy: Policy, data: Mapping[str, Any], *, actor_id: int | None,
               change_note: str = "") -> PolicyVersion:
    """Write a change as the policy's draft (a new version number, or the draft already open)."""
    spec = check_definition(data, key=policy.key)
    draft = draft_version(policy)
    before = version_data(draft or active_version(policy))
    if draft is None:
        draft = PolicyVersion(policy=policy, number=_next_number(policy), status=VersionStatus.DRAFT,
                              created_by_id=actor_id)
        db.session.add(draft)
    _apply(draft, spec)
    draft.change_note = change_note[:300]
    db.session.flush()
    record("policy.draft_saved", "policy", policy.id, actor_id=actor_id,
           summary=f"Saved draft v{draft.number} of {spec.name}", before=before, after=version_data(draft))
    return draft


def activate(version: PolicyVersion, *, actor_id: int | None) -> PolicyVersion:
    """Enforce a draft from now on; the version enforced until now is superseded."""
    if version.status is not VersionStatus.DRAFT:
        raise PolicyStateError(f"Version {version.number} is {version.status.label.lower()}, not a draft: "
                               "restore it to make a new draft, then activate that.")
    policy = version.policy
    previous = active_version(policy)
    now = utcnow()
    if previous is not None:
        previous.status, previous.ended_at = VersionStatus.SUPERSEDED, now
        db.session.flush()  # one active version per policy, enforced by a unique index
    version.status, version.activated_at, version.activated_by_id = VersionStatus.ACTIVE, now, actor_id
    policy.name = version.name
    db.session.flush()
    record("policy.activated", "policy", policy.id, actor_id=actor_id,
           summary=f"Activated v{version.number} of {version.name}"
                   + (f" (replacing v{previous.number})" if previous else ""),
           before=version_data(previous), after=version_data(version))
    return version


def switch_off(policy: Policy, *, actor_id: int | None) -> PolicyVersion:
    """Stop enforcing and evaluating a policy; its versions stay, and any can be restored."""
    current = active_version(policy)
    if current is None:
        raise PolicyStateError(f"{policy.name} is not active.")
    before = version_data(current)
    current.status, current.ended_at = VersionStatus.RETIRED, utcnow()
    db.session.flush()
    record("policy.switched_off", "policy", policy.id, actor_id=actor_id,
           summary=f"Switched off {policy.name} (v{current.number})", before=before,
           after=version_data(current))
    return current


def restore(version: PolicyVersion, *, actor_id: int | None) -> PolicyVersion:
    """A new draft copying an older version; HR reads its dry run and activates it."""
    policy = version.policy
    draft = save_draft(policy, spec_of(version).as_data(), actor_id=actor_id,
                       change_note=f"Restored from version {version.number}")
    record("policy.restored", "policy", policy.id, actor_id=actor_id,
           summary=f"Restored v{version.number} of {policy.name} as draft v{draft.number}",
           before=version_data(version), after=version_data(draft))
    return draft


def discard_draft(policy: Policy, *, actor_id: int | None) -> None:
    """Throw away the open draft; a policy that only ever had this draft goes with it."""
    draft = draft_version(policy)
    if draft is None:
        raise PolicyStateError(f"{policy.name} has no draft.")
    before = version_data(draft)
    only = len(policy.versions) == 1
    policy.versions.remove(draft)
    db.session.delete(draft)
    if only:
        db.session.delete(policy)
    db.session.flush()
    record("policy.draft_discarded", "policy", None if only else policy.id, actor_id=actor_id,
           summary=f"Discarded draft v{before['version']} of {before['name']}"
                   + (" and the policy with it" if only else ""), before=before, after=None)


# ---------------------------------------------------------------- dry run


@dataclass
class DryRun:
    """What activating a candidate would change, computed by the evaluation itself."""

    candidate: ActivePolicy
    current: ActivePolicy | None
    report: ComplianceReport            # the candidate's own violations
    current_report: ComplianceReport | None
    company_before: int                 # people out of compliance with any policy, today
    company_after: int                  # the same once the candidate is active
    in_scope: int

    @property
    def people(self) -> int:
        return self.report.people_out_of_compliance

    @property
    def violations(self) -> int:
        return len(self.report.violations) + len(self.report.team_violations)

    @property
    def teams(self) -> int:
        """Teams out of compliance (rules that judge teams)."""
        return len(self.report.team_violations)

    @property
    def current_teams(self) -> int | None:
        return len(self.current_report.team_violations) if self.current_report else None

    @property
    def current_people(self) -> int | None:
        return self.current_report.people_out_of_compliance if self.current_report else None

    @property
    def newly_out(self) -> list[int]:
        before = {v.employee_id for v in self.current_report.violations} if self.current_report else set()
        return sorted({v.employee_id for v in self.report.violations} - before)

    @property
    def back_in(self) -> list[int]:
        if self.current_report is None:
            return []
        return sorted({v.employee_id for v in self.current_report.violations}
                      - {v.employee_id for v in self.report.violations})


def candidate_of(spec: PolicySpec, policy: Policy | None = None,
                 version: PolicyVersion | None = None) -> ActivePolicy:
    """An evaluable candidate from a definition (ids of the draft when there is one)."""
    return ActivePolicy(policy_id=policy.id if policy else 0, version_id=version.id if version else 0,
                        number=version.number if version else (_next_number(policy) if policy else 1),
                        key=spec.key, name=spec.name, severity=spec.severity, rule=spec.rule,
                        scope=spec.scope)


def dry_run(spec: PolicySpec, *, policy: Policy | None = None, version: PolicyVersion | None = None,
            now: datetime | None = None) -> DryRun:
    """Who and what would be out of compliance if this definition were active, with today's data."""
    now = now or utcnow()
    candidate = candidate_of(spec, policy, version)
    actives = active_policies()
    current = next((p for p in actives if policy is not None and p.policy_id == policy.id), None)
    others = [p for p in actives if current is None or p.policy_id != current.policy_id]
    compare = current is not None and current.version_id != candidate.version_id
    # The current version goes before the candidate so that the in-scope count is the candidate's.
    evaluated = evaluate([*others, *([current] if compare else []), candidate], now=now)
    others_ids = {p.policy_id for p in others}
    other_people = {v.employee_id for v in evaluated.violations if v.policy_id in others_ids}

    def only(subject: ActivePolicy) -> ComplianceReport:
        # Candidate and current share a policy id; their version ids tell their violations apart.
        found = [v for v in evaluated.violations
                 if v.policy_id == subject.policy_id and v.version_id == subject.version_id]
        teams = [t for t in evaluated.team_violations
                 if t.policy_id == subject.policy_id and t.version_id == subject.version_id]
        return ComplianceReport(now, [subject], found, evaluated.people, evaluated.in_scope, teams)

    report = only(candidate)
    current_report = only(current) if compare else (report if current is not None else None)
    before = other_people | ({v.employee_id for v in current_report.violations} if current_report else set())
    after = other_people | {v.employee_id for v in report.violations}
    return DryRun(candidate, current, report, current_report, len(before), len(after),
                  evaluated.in_scope.get(candidate.policy_id, 0))


def dry_run_version(version: PolicyVersion, *, now: datetime | None = None) -> DryRun:
    """The dry run of a stored (draft) version."""
    return dry_run(spec_of(version), policy=version.policy, version=version, now=now)


# ---------------------------------------------------------------- files


@dataclass
class LoadResult:
    """What loading policy files did (or, in a dry run, would do)."""

    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    impacts: dict[str, DryRun] = field(default_factory=dict)
    skipped: bool = False

    def summary(self) -> str:
        if self.skipped:
            return "policies already exist; nothing loaded"
        return (f"{len(self.created)} new, {len(self.changed)} changed, {len(self.unchanged)} unchanged")


def any_policies() -> bool:
    return db.session.scalar(select(func.count()).select_from(Policy)) > 0


def load_policy_files(paths: Iterable[Path], *, actor_id: int | None = None, dry_run_only: bool = False,
                      if_empty: bool = False) -> LoadResult:
    """Load policy files all or nothing: new policies and changed ones become active versions.

    PolicyFileError lists every problem (file, line, field) and nothing is written. Policies not
    in the files are left as they are. With dry_run_only, nothing is written and `impacts` holds the
    dry run of each new or changed policy.
    """
    if if_empty and any_policies():
        return LoadResult(skipped=True)
    items = read_policy_files(list(paths))
    team_problems = []
    for item in items:
        for path, message in _unknown_teams(item.spec).items():
            team_problems.append(f"{item.file}, line {item.line_of(path)}, field {path}: {message}")
    if team_problems:
        raise PolicyFileError(team_problems)
    result = LoadResult()
    plan: list[tuple[FilePolicy, Policy | None]] = []
    for item in items:
        policy = db.session.scalar(select(Policy).options(selectinload(Policy.versions))
                                   .where(Policy.key == item.spec.key))
        current = active_version(policy) if policy else None
        if current is not None and spec_of(current).content() == item.spec.content():
            result.unchanged.append(item.spec.key)
            continue
        (result.changed if policy else result.created).append(item.spec.key)
        plan.append((item, policy))
    if dry_run_only:
        for item, policy in plan:
            result.impacts[item.spec.key] = dry_run(item.spec, policy=policy)
        return result
    for item, policy in plan:
        note = f"Loaded from {item.file}"
        if policy is None:
            version = create_policy(item.spec.as_data(), actor_id=actor_id, change_note=note)
        else:
            version = save_draft(policy, item.spec.as_data(), actor_id=actor_id, change_note=note)
        activate(version, actor_id=actor_id)
    return result


def export_policies(*, include_off: bool = False) -> str:
    """The active policies as a policy file (with `include_off`, switched-off ones at their last version)."""
    specs = []
    for row in list_policies():
        version = row.active
        if version is None and include_off:
            version = next((v for v in reversed(row.policy.versions) if v.status is not VersionStatus.DRAFT),
                           None)
        if version is not None:
            specs.append(spec_of(version))
    return dump_policies(specs)




def _flatten(data: Mapping[str, Any] | None, prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in (data or {}).items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = value
    return flat


def _shown(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v).replace("_", " ") for v in value) or "any"
    if value is None or value == "":
        return "none"
    # Enum values (in_person) read as words; free text (names, descriptions) stays as written.
    return str(value).replace("_", " ") if isinstance(value, str) and " " not in value else str(value)


def audit_changes(entry: AuditEntry) -> list[tuple[str, str, str]]:
    """The fields an audit entry changed, as (field, before, after) in words."""
    before, after = _flatten(entry.before), _flatten(entry.after)
    changed = []
    for name in [*before, *(n for n in after if n not in before)]:
        if name in ("status", "version") and entry.action != "policy.switched_off":
            continue
        if before.get(name) != after.get(name):
            changed.append((name, _shown(before.get(name)) if entry.before else "none",
                            _shown(after.get(name)) if entry.after else "none"))
    return changed


def definition_changes(before: PolicyVersion | None, after: PolicyVersion) -> list[tuple[str, str, str]]:
    """What a draft changes compared with the enforced version, as (field, before, after)."""
    old = _flatten(spec_of(before).as_data()) if before else {}
    new = _flatten(spec_of(after).as_data())
    return [(name, _shown(old.get(name)) if before else "none", _shown(new.get(name)))
            for name in new if old.get(name) != new.get(name) and name != "key"]
