"""`mes demo`: serves the API, runs the scripted shift through it, prints what was recorded."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta
from typing import Any, TextIO

import httpx
import msgspec
import uvicorn

from api.access.services import build_access
from api.capabilities import COMMAND_ROLES, COMMAND_ROUTES
from api.demo_plant import FINISHED_PALLETS, LINE, RAW_SUGAR_LOT, Step, shift
from api.runtime import build_runtime
from application.access.provision import add_machine, add_person
from application.bus import CommandContext
from application.commands import Command
from domain.values import Actor, ActorKind, Role, Source
from infrastructure.settings import Settings

PATHS = {route.command: route for route in COMMAND_ROUTES}
READY_TIMEOUT_S = 30.0
# The demo's people, with passwords everyone can read: the demo is for trying Chronicle on one's
# own machine (loopback only), never for a plant.
DEMO_PEOPLE = (
    ("olu", "Olu Operator", Role.OPERATOR),
    ("quinn", "Quinn Quality", Role.QUALITY),
    ("sam", "Sam Supervisor", Role.SUPERVISOR),
    ("aude", "Aude Auditor", Role.AUDITOR),
    ("ada", "Ada Admin", Role.ADMIN),
)
ERP = "erp"  # the ERP's machine account: master data and work orders come from it
DEMO_SET_UP = CommandContext(Actor("demo", "mes demo set-up", ActorKind.SERVICE), Source.SYSTEM)
Credentials = dict[str, dict[str, str]]  # username -> the Authorization header it sends


def demo_password(username: str) -> str:
    return f"{username}-demo-2026!"


def prepare_accounts(settings: Settings) -> str:
    """The demo's people (made once) and a new key for the ERP account; the key."""
    runtime = build_runtime(settings)
    access = build_access(runtime.bus, runtime.directory, settings)
    try:
        for username, printed_name, role in DEMO_PEOPLE:
            if runtime.directory.account(username) is None:
                add_person(access.passwords, username, printed_name, [role], demo_password(username), DEMO_SET_UP)
        keys = access.keys
        if runtime.directory.account(ERP) is None:
            return add_machine(keys, ERP, "ERP (demo)", [Role.INTEGRATION], DEMO_SET_UP).key
        issued = keys.issue(
            ERP, valid_for=timedelta(days=1), context=DEMO_SET_UP, command_id=f"demo-key-{uuid.uuid4()}"
        )
        return issued.key
    finally:
        runtime.close()


def sign_in(client: httpx.Client, erp_key: str) -> Credentials:
    """Signs each demo person in over HTTP; with the ERP's key, what each account sends."""
    credentials = {ERP: {"Authorization": f"Bearer {erp_key}"}}
    for username, _, _ in DEMO_PEOPLE:
        answer = client.post("/api/v1/auth/login", json={"username": username, "password": demo_password(username)})
        if answer.status_code != 200:  # noqa: PLR2004
            msg = f"{username} could not sign in: {answer.status_code} {answer.text}"
            raise DemoError(msg)
        credentials[username] = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    return credentials


def one_sender(headers: dict[str, str]) -> Credentials:
    """Every demo account's commands sent with the same credentials (a test's or a benchmark's)."""
    return dict.fromkeys((*(p[0] for p in DEMO_PEOPLE), ERP), headers)


def sender(command: Command) -> str:
    """Who sends a command in the demo: the floor first, then quality, the supervisor, the ERP."""
    allowed = COMMAND_ROLES[type(command)]
    for username, _, role in (*DEMO_PEOPLE, (ERP, "", Role.INTEGRATION)):
        if role in allowed:
            return username
    msg = f"no demo account may send {type(command).__name__}"
    raise DemoError(msg)


def request_for(command: Command) -> tuple[str, dict[str, Any], dict[str, str]]:
    """The HTTP request that sends a command: its route, its body, and its id as Idempotency-Key."""
    route = PATHS[type(command)]
    fields = {f: getattr(command, f) for f in command.__struct_fields__ if f != "command_id"}
    path = route.path
    for name in route.path_fields:
        path = path.replace(f"{{{name}:str}}", str(fields.pop(name)))
    body = {k: v for k, v in fields.items() if v is not None}
    return f"/api/v1{path}", body, {"Idempotency-Key": command.command_id}


@contextmanager
def serving(app: Any, host: str, port: int) -> Iterator[uvicorn.Server]:
    """Runs the app under uvicorn in a background thread until the block ends."""
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_config=None, lifespan="on"))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    ready = threading.Event()
    deadline = datetime.now(UTC).timestamp() + READY_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or datetime.now(UTC).timestamp() > deadline:
            msg = f"the API did not start on {host}:{port} (is the port taken?)"
            raise RuntimeError(msg)
        ready.wait(0.05)
    try:
        yield server
    finally:
        server.should_exit = True
        thread.join(timeout=15)


class DemoError(Exception):
    """The shift could not be run through the API; the message says why, in one line."""


def _refusal(number: int, step: Step, answer: httpx.Response) -> str:
    problem = answer.json() if answer.headers.get("content-type", "").endswith("json") else {}
    if number == 1 and problem.get("rule") == "already-exists":
        return (
            "this store already holds the demo shift of another day: run `mes demo` in an empty folder "
            "(or remove ./var) to run it again"
        )
    return f"step {number} ({step.title}) was refused: {answer.status_code} {problem.get('detail', answer.text)}"


def run_shift(client: httpx.Client, out: TextIO, credentials: Credentials, start: datetime | None = None) -> int:
    """Sends every command of the shift, each as the account whose role it is; returns the
    position of the last one."""
    # Yesterday's early shift: business times lie in the past (a report cannot come from the future),
    # and are the same all day, so a second run sends the very same commands.
    start = start or datetime.combine(datetime.now(UTC).date() - timedelta(days=1), time(6, 0), tzinfo=UTC)
    steps = shift(start)
    replayed, position = 0, 0
    for number, step in enumerate(steps, start=1):
        path, body, headers = request_for(step.command)
        by = sender(step.command)
        answer = client.post(
            path,
            content=msgspec.json.encode(body),
            headers={**headers, **credentials[by], "Content-Type": "application/json"},
        )
        if answer.status_code >= 400:  # noqa: PLR2004
            raise DemoError(_refusal(number, step, answer))
        result = answer.json()
        replayed += result["replayed"]
        position = max(position, result["position"] or 0)
        mark = "=" if result["replayed"] else "+"
        out.write(
            f"[{number:3d}/{len(steps)}] {mark} {by:<5} POST {path:<44} {answer.status_code} "
            f"position {result['position']}\n"
        )
    if replayed:
        out.write(
            f"\n{replayed} of {len(steps)} commands had run before: answered from their receipts, "
            "nothing recorded twice.\n"
        )
    return position


def print_summary(client: httpx.Client, position: int, out: TextIO) -> None:
    """What was recorded, read as the auditor reads it."""
    wait = {"min_position": position}
    lots = client.get("/api/v1/lots", params={**wait, "limit": 500}).json()["items"]
    out.write(
        f"\nLots ({len(lots)}):\n  {'lot':<14} {'material':<12} {'quantity':>10} {'unit':<4} {'status':<10} location\n"
    )
    for lot in lots:
        out.write(
            f"  {lot['lot_number']:<14} {lot['material_code']:<12} {lot['quantity']['value']:>10} "
            f"{lot['quantity']['unit']:<4} "
            f"{lot['status']:<10} {lot['location']}\n"
        )
    orders = client.get("/api/v1/work-orders", params=wait).json()["items"]
    out.write(
        f"\nWork orders ({len(orders)}):\n  {'order':<14} {'product':<10} {'state':<10} {'good':>8} {'scrap':>6}\n"
    )
    for order in orders:
        out.write(
            f"  {order['order_number']:<14} {order['product_code']:<10} {order['state']:<10} "
            f"{order['good_quantity']['value']:>8} {order['scrap_quantity']['value']:>6}\n"
        )
    pallet = FINISHED_PALLETS[0]
    trace = client.get(f"/api/v1/lots/{pallet}/genealogy", params={**wait, "direction": "backward"}).json()
    out.write(f"\nWhat went into pallet {pallet} ({len(trace['lots'])} lots, from the genealogy view):\n")
    for step in sorted(trace["steps"], key=lambda s: s["path"]):
        amount = step["quantity"]
        quantity = f"{amount['value']} {amount['unit']}" if amount is not None else "shared"
        out.write(
            f"  {'  ' * step['depth']}<- {step['lot_number']:<14} {step['material_code'] or '':<12} "
            f"{step['kind']:<14} {quantity}\n"
        )
    recall = client.get(f"/api/v1/lots/{RAW_SUGAR_LOT}/genealogy", params={**wait, "direction": "forward"}).json()
    out.write(f"\nWhere sugar lot {RAW_SUGAR_LOT} went (the recall list): {', '.join(recall['lots'])}\n")
    print_filler(client, wait, out)


def print_filler(client: httpx.Client, wait: dict[str, int], out: TextIO) -> None:
    """The filler's day as its connector reported it: states by source time, and what it made."""
    now = datetime.now(UTC)
    span: dict[str, str | int] = {**wait, "from": _text(now - timedelta(days=2)), "to": _text(now)}  # yesterday's
    timeline = client.get("/api/v1/equipment/FILLER-1/states", params=span).json()
    counts = client.get("/api/v1/equipment/FILLER-1/counts", params=span).json()
    out.write("\nFiller FILLER-1, states by the connector's time:\n")
    changes = [i for i in timeline["states"] if i["kind"] != "opened"]
    for n, interval in enumerate(changes, start=1):
        start, end = (datetime.fromisoformat(interval[k].replace("Z", "+00:00")) for k in ("start", "end"))
        lasted = "since" if n == len(changes) else f"{round((end - start).total_seconds() / 60):>3} min"
        out.write(f"  {start:%H:%M} {interval['value']:<12} {lasted}\n")
    for order in counts["orders"]:
        out.write(
            f"  made for {order['order_number']}: {order['good']} good, {order['reject']} rejects ({order['source']})\n"
        )
    ran = {"from": changes[0]["start"], "to": next(i["start"] for i in changes if i["value"] == "Complete")}
    stops = client.get("/api/v1/downtime", params={**wait, **ran, "line": LINE}).json()
    for stop in stops["stops"]:
        why = "minor stop" if stop["minor"] else f"{stop['reason_name'] or 'no reason yet'} ({stop['explained_by']})"
        out.write(f"  stopped {stop['start'][11:16]} for {stop['minutes']:g} min: {why}\n")
    print_line_oee(client, {**wait, **ran}, out)


def print_line_oee(client: httpx.Client, span: dict[str, str | int], out: TextIO) -> None:
    """The line's OEE over the filling run, by its bottleneck, with A, P, Q and the top losses."""
    line = client.get("/api/v1/oee", params={**span, "line": LINE}).json()
    (run,) = line["buckets"]
    worst = sorted(run["losses"].items(), key=lambda loss: -loss[1])[:3]
    out.write(
        f"\nLine {LINE} OEE over the filling run (its bottleneck {line['bottleneck']}): {run['oee']:.1%}\n"
        f"  availability {run['availability']:.1%}, performance {run['performance']:.1%}, "
        f"quality {run['quality']:.1%}; top losses: "
        + ", ".join(f"{name.replace('_', ' ')} {minutes:.0f} min" for name, minutes in worst)
        + f"; MTBF {run['mtbf_minutes']} min, MTTR {run['mttr_minutes']} min\n"
    )


def _text(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def print_people(base: str, out: TextIO) -> None:
    out.write("\nDemo people (second factors are off for the demo only; a plant's supervisors, quality and\n")
    out.write("administrators sign in with a code too):\n")
    for username, printed_name, role in DEMO_PEOPLE:
        out.write(f"  {username:<6} {printed_name:<15} {role:<11} password {demo_password(username)}\n")
    out.write(
        "\nSign in (the answer's access_token goes in Authorization: Bearer ...):\n"
        f"  curl -s -X POST {base}/api/v1/auth/login -H 'Content-Type: application/json' "
        f'-d \'{{"username": "aude", "password": "{demo_password("aude")}"}}\'\n'
    )


def print_urls(base: str, out: TextIO) -> None:
    out.write(
        "\nTry (with the token):\n"
        f"  API docs           {base}/api/v1/docs\n"
        f"  pallet genealogy   {base}/api/v1/lots/{FINISHED_PALLETS[0]}/genealogy?direction=backward\n"
        f"  recall list        {base}/api/v1/lots/{RAW_SUGAR_LOT}/genealogy?direction=forward\n"
        f"  lot history        {base}/api/v1/lots/LBL-24-0100/history\n"
        f"  inventory          {base}/api/v1/inventory\n"
        f"  work orders        {base}/api/v1/work-orders\n"
    )
