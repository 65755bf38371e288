"""Domain errors: a broken plant rule, named so that an operator understands the refusal."""

from __future__ import annotations


class DomainError(Exception):
    """A command broke a business rule; nothing was recorded."""

    rule = "domain-rule"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidQuantityError(DomainError):
    rule = "invalid-quantity"

    def __init__(self, value: str, why: str) -> None:
        super().__init__(f"quantity {value} {why}")


class UnitMismatchError(DomainError):
    rule = "unit-mismatch"

    def __init__(self, expected: str, given: str) -> None:
        super().__init__(f"unit {given!r} does not match {expected!r} and no conversion is defined")
        self.expected = expected
        self.given = given


class ReasonRequiredError(DomainError):
    rule = "reason-required"

    def __init__(self, action: str) -> None:
        super().__init__(f"{action} needs a reason")
        self.field = "reason"


class RequiredValueError(DomainError):
    rule = "value-required"

    def __init__(self, action: str, what: str) -> None:
        super().__init__(f"{action} needs {what}")


class AlreadyExistsError(DomainError):
    rule = "already-exists"

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {key!r} already exists")


class NotFoundError(DomainError):
    rule = "not-found"

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {key!r} does not exist")
        self.kind = kind
        self.key = key


class HierarchyError(DomainError):
    rule = "equipment-hierarchy"


class EquipmentDecommissionedError(DomainError):
    rule = "equipment-decommissioned"

    def __init__(self, code: str) -> None:
        super().__init__(f"equipment {code!r} is decommissioned")


class LotNotAvailableError(DomainError):
    rule = "lot-not-available"

    def __init__(self, lot_number: str, status: str) -> None:
        super().__init__(f"lot {lot_number!r} is {status}, not Available")
        self.status = status


class LotExpiredError(DomainError):
    rule = "lot-expired"

    def __init__(self, lot_number: str, expiry: str) -> None:
        super().__init__(f"lot {lot_number!r} expired on {expiry}")


class InsufficientQuantityError(DomainError):
    rule = "insufficient-quantity"

    def __init__(self, lot_number: str, wanted: object, left: object) -> None:
        super().__init__(f"lot {lot_number!r} holds {left}, {wanted} was asked for")


class IllegalLotTransitionError(DomainError):
    rule = "illegal-lot-transition"

    def __init__(self, lot_number: str, action: str, status: str) -> None:
        super().__init__(f"cannot {action} lot {lot_number!r}: it is {status}")
        self.status = status


class MergeError(DomainError):
    rule = "merge-incompatible"


class IllegalTransitionError(DomainError):
    """A work order command that ISA-95 RequestState does not allow from the current state."""

    rule = "illegal-transition"

    def __init__(self, order_number: str, action: str, state: str) -> None:
        super().__init__(f"cannot {action} work order {order_number!r}: it is {state}")
        self.state = state


class UnknownOperationError(DomainError):
    rule = "unknown-operation"

    def __init__(self, order_number: str, sequence: int) -> None:
        super().__init__(f"work order {order_number!r} has no operation {sequence}")


class MaterialNotInBomError(DomainError):
    rule = "material-not-in-bom"

    def __init__(self, order_number: str, material_code: str) -> None:
        super().__init__(f"material {material_code!r} is not in the bill of materials of {order_number!r}")


class InvalidOrderError(DomainError):
    rule = "invalid-order"


class PrincipalError(DomainError):
    """A change to a person or machine account that the access rules do not allow."""

    rule = "principal-rule"


class PasswordPolicyError(DomainError):
    """A new password the plant's password policy refuses (too like the username, too repetitive)."""

    rule = "password-policy"


class IllegalStateCommandError(DomainError):
    """A PackML command the equipment's current state does not take (ISA-TR88.00.02)."""

    rule = "packml-transition"

    def __init__(self, equipment_code: str, command: str, state: str) -> None:
        super().__init__(f"equipment {equipment_code!r} is {state}: it does not take the command {command}")
        self.state = state


class CountWindowError(DomainError):
    """A count whose window does not run forward."""

    rule = "count-window"


class CalendarError(DomainError):
    """A shift pattern, planned downtime or non-working day the calendar cannot take (it would change
    the past, or its times do not make sense)."""

    rule = "shift-calendar"


class ReasonTreeError(DomainError):
    """A reason tree, or a stop's reason or split, that breaks the tree's rules."""

    rule = "reason-tree"
