"""The command bus: group commit, idempotency and retries around the command handlers.

Callers on any thread (or event loop) submit commands; one writer thread takes whatever has
queued up while the previous transaction was committing, runs those commands one after another
against cached aggregates, and saves all their events and receipts in one transaction. Under load
this turns many commits into one; with a single caller it adds no wait at all.

If the batch's transaction fails on a conflict (another process wrote one of its aggregates, or a
command id was already recorded), every command of the batch is retried on its own, reloaded
from the store, so that one conflict never costs the others their work.

If the store cannot be reached (the server terminated the connection, restarted, or the network
dropped), the batch is run again from scratch, with jittered exponential backoff, until the store
answers or `store_budget` seconds have passed since it went away; then its commands fail with
StoreUnavailableError (503, try again). A command whose COMMIT was sent when the connection broke
may have been recorded: running it again finds its receipt and answers from it, never twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from application.commands import BusinessTimeWindow, Command, InvalidCommandError, fingerprint
from application.handlers import HandlerRegistry, Handles
from application.ports import AllowAll, Authorizer, Clock, CommandReceipt, StoredReceipt, StoreUnavailableError
from application.service import STORE_BUDGET_S, STORE_FAILURES, Chronicle, backoff, connection_failed, first_line
from application.unit_of_work import AggregateCache, Scope
from domain.errors import DomainError
from domain.values import Actor, Provenance, Role, Source

log = logging.getLogger("chronicle.bus")

ALONE_ATTEMPTS = 12
BACKOFF_S = 0.002  # doubled on every conflict, with jitter, so two hot writers drift apart


class ConflictError(DomainError):
    """Other writers kept changing the same aggregates; the command was not recorded."""

    rule = "concurrent-modification"


class IdempotencyKeyReusedError(Exception):
    """A command id already recorded for another command (another kind, or the same kind asking for
    something else): the key was reused by mistake, and the second command is refused, not dropped."""

    rule = "idempotency-key-reused"


class UnknownCommandError(TypeError):
    pass


@dataclass(frozen=True)
class CommandContext:
    """Who sends a command, through which channel, as part of which larger piece of work."""

    actor: Actor
    source: Source = Source.API
    correlation_id: str | None = None
    # The actor's roles as authentication just established them (HTTP); None: the bus looks them up.
    roles: frozenset[Role] | None = None


class CommandResult(msgspec.Struct, frozen=True):
    """The answer to a command: what it made (its handler's result) and its position in the log."""

    command_id: str
    command_type: str
    position: int | None
    result: msgspec.Struct
    replayed: bool = False


@dataclass
class _Pending:
    command: Command
    context: CommandContext
    entry: Handles[Any, Any]  # the command's handler and result type
    future: Future[CommandResult] | None = None  # a blocking caller's
    waiter: asyncio.Future[CommandResult] | None = None  # an event loop's caller, answered per batch
    outcome: CommandResult | BaseException | None = None
    fingerprint: bytes = b""  # of the command's payload, kept in its receipt

    def __post_init__(self) -> None:
        self.fingerprint = fingerprint(self.command)

    @property
    def command_type(self) -> str:
        return type(self.command).__name__

    def replay(self, result: CommandResult, first_fingerprint: bytes | None) -> None:
        """Answers a repeat with the first answer under its id, if it is the same command."""
        if result.command_type != self.command_type:
            self.fail(
                IdempotencyKeyReusedError(
                    f"command id {result.command_id!r} was used for {result.command_type}, not {self.command_type}"
                )
            )
        elif first_fingerprint is not None and first_fingerprint != self.fingerprint:
            self.fail(
                IdempotencyKeyReusedError(
                    f"command id {result.command_id!r} was used for a {result.command_type} with another payload; "
                    "a repeat must send the same payload, a new command needs a new id"
                )
            )
        else:
            self.resolve(result)

    def resolve(self, result: CommandResult) -> None:
        self.outcome = result
        if self.future is not None and not self.future.done():  # a caller that gave up has cancelled it
            self.future.set_result(result)

    def fail(self, error: BaseException) -> None:
        self.outcome = error
        if self.future is not None and not self.future.done():
            self.future.set_exception(error)


@dataclass
class _Done:
    pending: _Pending
    result: msgspec.Struct
    events: list[Any]


class _Batch:
    """Commands run one after another on shared aggregates, to be saved in one transaction."""

    def __init__(self, app: Chronicle, cache: AggregateCache | None, clock: Clock) -> None:
        self.app = app
        self.cache = cache
        self.clock = clock
        self.aggregates: dict[UUID, Aggregate] = {}
        self.done: list[_Done] = []
        self.spoiled: set[UUID] = set()  # aggregates a command left half-changed when the store failed

    def run(self, pending: _Pending) -> bool:
        """Runs one command; False when it was refused or found already done (its future is then settled).

        Receipts are not looked up before a command runs: a repeat that runs again without breaking
        a rule fails on the receipt's unique key at commit time, and the retry answers it.
        """
        command = pending.command
        provenance = Provenance(
            actor=pending.context.actor,
            source=pending.context.source,
            command_id=command.command_id,
            correlation_id=pending.context.correlation_id or command.command_id,
            occurred_at=command.occurred_at or self.clock.now(),
        )
        scope = Scope(self.app, self.aggregates, self.cache, provenance, now=self.clock.now())
        try:
            result = pending.entry.handler(command, scope)
        except DomainError as error:
            if scope.has_partial_changes():
                self._rebuild(scope.shared)
            # A repeat of a command that already ran may break a rule the first run changed (the
            # lot it created exists now): answer it from its receipt instead.
            receipt = self.app.select_receipts([command.command_id]).get(command.command_id)
            if receipt is not None:
                pending.replay(replayed_result(receipt, pending.entry.result), receipt.fingerprint)
            else:
                pending.fail(error)
            return False
        except Exception as error:
            if connection_failed(error):
                self.spoiled |= scope.touched.keys()  # the bus runs the whole batch again
                raise
            log.exception("command %s (%s) failed", command.command_id, pending.command_type)
            if scope.has_partial_changes():
                self._rebuild(scope.shared)
            pending.fail(error)
            return False
        events = [event for aggregate in scope.touched.values() for event in aggregate.collect_events()]
        self.aggregates.update(scope.touched)
        self.done.append(_Done(pending, result, events))
        return True

    def _rebuild(self, spoiled: set[UUID]) -> None:
        """Forgets half-applied changes by replaying the batch's successful commands on fresh state."""
        if self.cache is not None:
            self.cache.evict(spoiled | self.aggregates.keys())
        done, self.done, self.aggregates = self.done, [], {}
        for item in done:
            self.run(item.pending)

    def save(self) -> list[CommandResult]:
        events = [event for item in self.done for event in item.events]
        receipts = []
        for item in self.done:
            last = item.events[-1] if item.events else None
            receipts.append(
                CommandReceipt(
                    command_id=item.pending.command.command_id,
                    command_type=item.pending.command_type,
                    result=msgspec.json.encode(item.result),
                    originator_id=last.originator_id if last else None,
                    originator_version=last.originator_version if last else None,
                    fingerprint=item.pending.fingerprint,
                )
            )
        # Straight to the event store: the events are already in command order, and the
        # application's save() would only re-collect them (and snapshots are not used).
        recordings = self.app.events.put(events, receipts=receipts)
        positions = [r.notification.id for r in recordings]
        results, offset = [], 0
        for item in self.done:
            offset += len(item.events)
            position = positions[offset - 1] if item.events else None
            results.append(
                CommandResult(item.pending.command.command_id, item.pending.command_type, position, item.result)
            )
        if self.cache is not None:
            for aggregate in self.aggregates.values():
                self.cache.put(aggregate)
        return results


def replayed_result(receipt: StoredReceipt, result_type: type[msgspec.Struct]) -> CommandResult:
    """The first answer to a command, from its receipt."""
    try:
        result: msgspec.Struct = msgspec.json.decode(receipt.result, type=result_type)
    except msgspec.ValidationError:  # a receipt of another kind of command: the repeat is refused for that
        result = OtherCommandsResult()
    return CommandResult(
        command_id=receipt.command_id,
        command_type=receipt.command_type,
        position=receipt.position,
        result=result,
        replayed=True,
    )


class OtherCommandsResult(msgspec.Struct, frozen=True):
    """Stands for the result of a receipt that belongs to another kind of command."""


class CommandBus:
    """Executes commands with group commit; safe to call from many threads and event loops."""

    def __init__(
        self,
        app: Chronicle,
        clock: Clock,
        handlers: HandlerRegistry,
        *,
        authorizer: Authorizer | None = None,
        max_batch: int = 512,
        cache_size: int = 20_000,
        store_budget: float = STORE_BUDGET_S,
        time_window: BusinessTimeWindow | None = None,
    ) -> None:
        self.app = app
        self.clock = clock
        self.handlers = handlers
        # Whatever way a command comes in (HTTP, an in-process connector, the ERP route), the bus
        # asks before running it.
        self.authorizer = authorizer or AllowAll()
        self.time_window = time_window or BusinessTimeWindow()  # business times a command may carry
        self.max_batch = max_batch
        self.store_budget = store_budget  # seconds commands wait for an unreachable store: then 503
        self._unreachable_since: float | None = None  # when the current outage began (monotonic)
        self.cache = AggregateCache(cache_size)
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write, name="chronicle-writer", daemon=True)
        self._closed = False
        self.batches = 0
        self.commands = 0
        self.on_commit: list[Callable[[], None]] = []  # called by the writer after each commit
        # Called by the writer for each command newly recorded (not a replay): keep them quick.
        self.on_recorded: list[Callable[[Command, CommandContext, CommandResult], None]] = []
        self._writer.start()

    def submit(self, command: Command, context: CommandContext) -> Future[CommandResult]:
        future: Future[CommandResult] = Future()
        self._enqueue(self._pending(command, context, future=future))
        return future

    def execute(self, command: Command, context: CommandContext, timeout: float = 60.0) -> CommandResult:
        """Runs a command and returns once its events are committed; raises its DomainError if refused."""
        return self.submit(command, context).result(timeout)

    async def execute_async(self, command: Command, context: CommandContext) -> CommandResult:
        waiter: asyncio.Future[CommandResult] = asyncio.get_running_loop().create_future()
        self._enqueue(self._pending(command, context, waiter=waiter))
        return await waiter

    def _pending(self, command: Command, context: CommandContext, **answer: Any) -> _Pending:
        """A command to run: known, allowed to its sender, and plausible, or refused at once."""
        entry = self.handlers.get(type(command))
        if entry is None:
            msg = f"no handler for {type(command).__name__}"
            raise UnknownCommandError(msg)
        self.authorizer.authorize(context.actor, command, context.roles)
        return _Pending(command, context, entry, **answer)

    def _enqueue(self, pending: _Pending) -> None:
        at = pending.command.occurred_at
        if at is not None and (refusal := self.time_window.refusal(at, self.clock.now())):
            raise InvalidCommandError([("occurred_at", refusal)])
        if self._closed:
            msg = "the command bus is closed"
            raise RuntimeError(msg)
        self._queue.put(pending)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._queue.put(None)
            self._writer.join()

    def _write(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            try:
                self._commit(batch)
            except Exception as error:  # the writer must survive anything, and answer every caller
                log.exception("batch of %d commands failed", len(batch))
                for pending in batch:
                    if pending.outcome is None:
                        pending.fail(error)
            answer_waiters(batch)
            if stop:
                return

    def _commit(self, batch: Sequence[_Pending]) -> None:
        started = time.perf_counter()
        first_of: dict[str, _Pending] = {}
        runnable: list[_Pending] = []
        repeats: list[_Pending] = []
        for pending in batch:
            command_id = pending.command.command_id
            if command_id in first_of:
                repeats.append(pending)
            else:
                first_of[command_id] = pending
                runnable.append(pending)
        self._run_until_recorded(runnable)
        for pending in repeats:
            self._answer_repeat(pending, first_of[pending.command.command_id])
        if any(isinstance(pending.outcome, CommandResult) for pending in runnable):
            for listener in self.on_commit:
                listener()
            self._tell_recorded(runnable)
        self.batches += 1
        self.commands += len(batch)
        log.debug("committed %d commands in %.1f ms", len(batch), (time.perf_counter() - started) * 1000)

    def _tell_recorded(self, runnable: Sequence[_Pending]) -> None:
        for pending in runnable:
            outcome = pending.outcome
            if isinstance(outcome, CommandResult) and not outcome.replayed:
                for observer in self.on_recorded:
                    try:
                        observer(pending.command, pending.context, outcome)
                    except Exception:  # an observer's failure must not stop the writer
                        log.exception("an observer of %s failed", type(pending.command).__name__)

    def _run_until_recorded(self, runnable: Sequence[_Pending]) -> None:
        """Runs and saves the commands; while the store is unreachable, runs those not yet
        answered again on state read afresh, until it answers or the budget is spent."""
        attempt = 0
        while unanswered := [pending for pending in runnable if pending.outcome is None]:
            work = _Batch(self.app, self.cache, self.clock)
            try:
                for pending in unanswered:
                    work.run(pending)
                if work.done:
                    self._save(work)
            except STORE_FAILURES as error:
                if not connection_failed(error):
                    raise
                self.cache.evict(work.spoiled | work.aggregates.keys())
                attempt += 1
                if not self._wait_for_store(error, attempt):
                    unavailable = StoreUnavailableError(
                        f"the event store could not be reached for {self.store_budget:.0f} s; send the command "
                        "again with the same Idempotency-Key (it is recorded once)"
                    )
                    for pending in unanswered:
                        if pending.outcome is None:
                            pending.fail(unavailable)
                    return
                continue
            if self._unreachable_since is not None:
                log.info("event store reachable again after %.1f s", time.monotonic() - self._unreachable_since)
                self._unreachable_since = None
            return

    def _wait_for_store(self, error: BaseException, attempt: int) -> bool:
        """Pauses before the next attempt; False once the store has been away for the whole budget.

        The budget runs from the first failure of an outage, not of each batch: during a long
        outage, commands get their 503 after one attempt instead of waiting a budget each.
        """
        now = time.monotonic()
        if self._unreachable_since is None:
            self._unreachable_since = now
            log.warning(
                "event store unreachable (%s); retrying commands for up to %.0f s", first_line(error), self.store_budget
            )
        self.app.discard_broken_connections()
        deadline = self._unreachable_since + self.store_budget
        if now >= deadline:
            log.debug("event store still unreachable (%s); answering 503", first_line(error))
            return False
        time.sleep(min(backoff(attempt), deadline - now))
        return True

    def _save(self, work: _Batch) -> None:
        try:
            results = work.save()
        except IntegrityError:
            self.cache.evict(work.aggregates.keys())
            log.info("batch of %d conflicted; retrying its commands one by one", len(work.done))
            for item in work.done:
                self._commit_alone(item.pending)
        except Exception:
            self.cache.evict(work.aggregates.keys())  # cached objects hold the changes that failed
            raise
        else:
            for item, result in zip(work.done, results, strict=True):
                item.pending.resolve(result)

    def _commit_alone(self, pending: _Pending) -> None:
        touched = commit_alone(self.app, self.clock, pending)
        self.cache.evict(touched)

    @staticmethod
    def _answer_repeat(pending: _Pending, first: _Pending) -> None:
        """A command id sent twice in one batch gets the first one's answer (or its refusal)."""
        if isinstance(first.outcome, CommandResult):
            pending.replay(msgspec.structs.replace(first.outcome, replayed=True), first.fingerprint)
        elif first.fingerprint != pending.fingerprint:  # another command under a refused one's id
            pending.fail(
                IdempotencyKeyReusedError(
                    f"command id {pending.command.command_id!r} was sent twice at once with different payloads"
                )
            )
        else:
            pending.fail(first.outcome or ConflictError("the first attempt of this command had no outcome"))


def answer_waiters(batch: Sequence[_Pending]) -> None:
    """Answers the callers awaiting on event loops: one wake-up per loop and batch, where
    `asyncio.wrap_future` would write to the loop's wake-up pipe once per command."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Pending]] = {}
    for pending in batch:
        if pending.waiter is not None:
            by_loop.setdefault(pending.waiter.get_loop(), []).append(pending)
    for loop, answered in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a loop closed meanwhile has no one left to answer
            loop.call_soon_threadsafe(_settle_waiters, answered)


def _settle_waiters(answered: list[_Pending]) -> None:
    for pending in answered:
        waiter = pending.waiter
        if waiter is None or waiter.done():  # a caller that gave up has cancelled it
            continue
        if isinstance(pending.outcome, CommandResult):
            waiter.set_result(pending.outcome)
        else:
            waiter.set_exception(pending.outcome or RuntimeError("the command bus gave no answer"))


def commit_alone(app: Chronicle, clock: Clock, pending: _Pending) -> set[UUID]:
    """Runs one command in its own transaction on state read fresh from the store.

    Conflicts are retried with jittered backoff. Returns the ids of the aggregates it touched.
    """
    command_id = pending.command.command_id
    touched: set[UUID] = set()
    for attempt in range(ALONE_ATTEMPTS):
        if attempt:
            time.sleep(random.uniform(0, BACKOFF_S * 2**attempt))  # noqa: S311 - jitter, not secrecy
        receipt = app.select_receipts([command_id]).get(command_id)
        if receipt is not None:
            pending.replay(replayed_result(receipt, pending.entry.result), receipt.fingerprint)
            return touched
        work = _Batch(app, None, clock)
        if not work.run(pending):
            return touched
        touched |= work.aggregates.keys()
        try:
            (result,) = work.save()
        except IntegrityError:
            continue
        pending.resolve(result)
        return touched
    pending.fail(ConflictError(f"command {command_id} kept conflicting with other writers"))
    return touched


def execute_in_own_transaction(
    app: Chronicle, clock: Clock, handlers: HandlerRegistry, command: Command, context: CommandContext
) -> CommandResult:
    """One command, one transaction, no cache and no batching: the library's default way of working.

    The bus falls back to it after a conflict; benchmarks compare the bus against it.
    """
    future: Future[CommandResult] = Future()
    commit_alone(app, clock, _Pending(command, context, handlers[type(command)], future=future))
    return future.result()
