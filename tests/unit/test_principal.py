"""Principal: people and machine accounts, their roles, and the record of each change to them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import PrincipalError, ReasonRequiredError
from domain.principal import Principal
from domain.values import ActorKind, Role
from tests.builders import T0, provenance


def person(*roles: Role) -> Principal:
    account = Principal.register(
        username="quinn",
        printed_name="Quinn Quality",
        kind=ActorKind.PERSON,
        roles=roles or (Role.QUALITY,),
        provenance=provenance(),
    )
    account.collect_events()
    return account


def machine(*roles: Role) -> Principal:
    account = Principal.register(
        username="erp-1",
        printed_name="ERP",
        kind=ActorKind.MACHINE,
        roles=roles or (Role.INTEGRATION,),
        provenance=provenance(),
    )
    account.collect_events()
    return account


def test_a_person_is_registered_enabled_with_their_printed_name_and_roles() -> None:
    account = person(Role.QUALITY, Role.SUPERVISOR)

    assert (account.username, account.printed_name, account.kind) == ("quinn", "Quinn Quality", ActorKind.PERSON)
    assert account.roles == {Role.QUALITY, Role.SUPERVISOR}
    assert account.enabled
    assert not account.has_password


def test_an_account_without_a_role_is_refused() -> None:
    with pytest.raises(PrincipalError, match="at least one role"):
        Principal.register(username="x", printed_name="X", kind=ActorKind.PERSON, roles=(), provenance=provenance())


def test_a_machine_may_not_be_an_administrator_and_a_person_may_not_hold_the_integration_role() -> None:
    with pytest.raises(PrincipalError, match="may not be an administrator"):
        machine(Role.ADMIN)
    with pytest.raises(PrincipalError, match="integration role is for machine accounts"):
        person(Role.INTEGRATION)


def test_granting_and_revoking_a_role_records_who_did_it_and_why() -> None:
    account = person()
    by = provenance()

    account.grant_role(Role.SUPERVISOR, reason="new shift lead", provenance=by)
    account.revoke_role(Role.QUALITY, reason="moved out of the QA lab", provenance=by)

    granted, revoked = account.collect_events()
    assert (granted.role, granted.reason, granted.provenance.actor) == (Role.SUPERVISOR, "new shift lead", by.actor)
    assert (revoked.role, revoked.reason) == (Role.QUALITY, "moved out of the QA lab")
    assert account.roles == {Role.SUPERVISOR}


@pytest.mark.parametrize("action", ["grant", "revoke", "disable"])
def test_an_access_change_without_a_reason_is_refused(action: str) -> None:
    account = person(Role.QUALITY, Role.SUPERVISOR)
    changes = {
        "grant": lambda: account.grant_role(Role.PLANNER, reason=" ", provenance=provenance()),
        "revoke": lambda: account.revoke_role(Role.QUALITY, reason="", provenance=provenance()),
        "disable": lambda: account.disable(reason="", provenance=provenance()),
    }

    with pytest.raises(ReasonRequiredError):
        changes[action]()
    assert account.collect_events() == []


def test_the_last_role_cannot_be_revoked_an_account_is_disabled_instead() -> None:
    account = person()

    with pytest.raises(PrincipalError, match="disable the account instead"):
        account.revoke_role(Role.QUALITY, reason="left", provenance=provenance())


def test_a_disabled_account_can_be_enabled_again_and_each_is_recorded_once() -> None:
    account = person()

    account.disable(reason="lost badge", provenance=provenance())
    with pytest.raises(PrincipalError, match="already disabled"):
        account.disable(reason="again", provenance=provenance())
    account.enable(reason="badge found", provenance=provenance())

    assert account.enabled
    assert [type(e).__name__ for e in account.collect_events()] == ["Disabled", "Enabled"]


def test_a_password_set_is_recorded_without_the_password_or_its_hash() -> None:
    account = person()

    account.password_set(reason="first sign-in", provenance=provenance())

    (recorded,) = account.collect_events()
    assert set(vars(recorded)) - {"originator_id", "originator_version", "timestamp"} == {"reason", "provenance"}
    assert account.has_password


def test_machines_have_api_keys_and_people_passwords_and_second_factors() -> None:
    person_account, machine_account = person(), machine()
    expires = T0 + timedelta(days=90)

    machine_account.issue_api_key(prefix="chr_ab12", expires_at=expires, provenance=provenance())
    with pytest.raises(PrincipalError, match="is a person"):
        person_account.issue_api_key(prefix="chr_cd34", expires_at=expires, provenance=provenance())
    with pytest.raises(PrincipalError, match="machine account"):
        machine_account.password_set(reason="x", provenance=provenance())
    with pytest.raises(PrincipalError, match="machine account"):
        machine_account.mfa_enrolled_now(provenance=provenance())

    assert machine_account.api_keys == {"chr_ab12": expires}


def test_a_revoked_api_key_is_gone_at_once_and_an_unknown_one_is_refused() -> None:
    account = machine()
    account.issue_api_key(prefix="chr_ab12", expires_at=T0 + timedelta(days=90), provenance=provenance())

    account.revoke_api_key(prefix="chr_ab12", reason="leaked in a ticket", provenance=provenance())
    with pytest.raises(PrincipalError, match="no key chr_ab12"):
        account.revoke_api_key(prefix="chr_ab12", reason="again", provenance=provenance())

    assert account.api_keys == {}


def test_a_second_factor_is_reset_only_when_one_is_enrolled() -> None:
    account = person()
    with pytest.raises(PrincipalError, match="no second factor"):
        account.reset_mfa(reason="lost phone", provenance=provenance())

    account.mfa_enrolled_now(provenance=provenance())
    account.reset_mfa(reason="lost phone", provenance=provenance())

    assert not account.mfa_enrolled
