"""Access over HTTP: signing in, who am I, second factors, accounts and keys (administrators), and
the security log (auditors, administrators); principals are also managed with `mes users`."""

from __future__ import annotations

from api.access import principals, sign_in
from api.capability import Capability
from api.operations import API_PATH, Link
from application.access import COMMAND_ROLES, HANDLERS
from application.access.policy import ADMINISTER, PUBLIC, SECURITY_LOG, SIGNED_IN

_ACCOUNT = f"{API_PATH}/principals/{{username}}"
PERMISSIONS = {
    f"POST {API_PATH}/auth/login": PUBLIC,
    f"POST {API_PATH}/auth/refresh": PUBLIC,
    # Enrolling a second factor asks for the person's password in the body.
    f"POST {API_PATH}/auth/mfa/enrolment": PUBLIC,
    f"POST {API_PATH}/auth/mfa/confirmation": PUBLIC,
    f"POST {API_PATH}/auth/logout": SIGNED_IN,
    f"GET {API_PATH}/auth/me": SIGNED_IN,
    f"GET {_ACCOUNT}": SECURITY_LOG,  # auditors review who holds which roles
    f"POST {_ACCOUNT}/password": ADMINISTER,
    f"POST {_ACCOUNT}/mfa/reset": ADMINISTER,
    f"POST {_ACCOUNT}/keys": ADMINISTER,
    f"POST {_ACCOUNT}/keys/{{prefix}}/rotate": ADMINISTER,
    f"POST {_ACCOUNT}/keys/{{prefix}}/revoke": ADMINISTER,
    f"GET {API_PATH}/security/events": SECURITY_LOG,
}

CAPABILITY = Capability(
    name="access",
    handlers=HANDLERS,
    command_routes=principals.ROUTES,
    query_routes=[*sign_in.ROUTES, *principals.QUERY_ROUTES],
    projections=(),
    tags=(sign_in.TAG,),
    parts=(
        Link("login", f"{API_PATH}/auth/login", "Sign in (password and code) for a bearer token"),
        Link("security-events", f"{API_PATH}/security/events", "The security log (auditors, administrators)"),
    ),
    command_roles=COMMAND_ROLES,
    permissions=PERMISSIONS,
)
