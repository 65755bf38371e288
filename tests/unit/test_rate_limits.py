"""Rate limits: a burst at once, then a sustained rate, per client, on a clock the test moves."""

from __future__ import annotations

from application.access.rate_limits import Rate, RateLimiter


class ManualClock:
    """Monotonic seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.current = 1000.0

    def __call__(self) -> float:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += seconds


def test_a_burst_goes_through_then_the_next_request_waits_whole_seconds() -> None:
    clock = ManualClock()
    limiter = RateLimiter(Rate(per_second=0.5, burst=3), clock)

    burst = [limiter.wait_s("olu") for _ in range(3)]
    refused = limiter.wait_s("olu")

    assert burst == [0, 0, 0]
    assert refused == 2  # one request every two seconds
    assert isinstance(refused, int)


def test_a_refusal_never_asks_for_less_than_a_second() -> None:
    clock = ManualClock()
    limiter = RateLimiter(Rate(per_second=50, burst=1), clock)

    limiter.wait_s("plc-7")

    assert limiter.wait_s("plc-7") == 1


def test_a_refused_request_does_not_count_against_the_client() -> None:
    clock = ManualClock()
    limiter = RateLimiter(Rate(per_second=1, burst=1), clock)
    limiter.wait_s("olu")

    repeated = [limiter.wait_s("olu") for _ in range(5)]
    clock.advance(1)

    assert repeated == [1] * 5
    assert limiter.wait_s("olu") == 0


def test_the_bucket_refills_at_the_sustained_rate_and_no_further_than_the_burst() -> None:
    clock = ManualClock()
    limiter = RateLimiter(Rate(per_second=2, burst=4), clock)
    for _ in range(4):
        limiter.wait_s("olu")

    clock.advance(0.5)  # one request's worth
    after_half_a_second = [limiter.wait_s("olu"), limiter.wait_s("olu")]
    clock.advance(3600)  # an idle hour refills the burst, not an hour's worth
    after_an_hour = [limiter.wait_s("olu") for _ in range(5)]

    assert after_half_a_second == [0, 1]
    assert after_an_hour == [0, 0, 0, 0, 1]


def test_the_wait_shrinks_as_the_bucket_refills() -> None:
    clock = ManualClock()
    limiter = RateLimiter(Rate(per_second=0.25, burst=1), clock)
    limiter.wait_s("olu")

    waits = []
    for _ in range(4):
        waits.append(limiter.wait_s("olu"))
        clock.advance(1)

    assert waits == [4, 3, 2, 1]
    assert limiter.wait_s("olu") == 0


def test_each_client_has_a_bucket_of_its_own() -> None:
    clock = ManualClock()
    limiter = RateLimiter(Rate(per_second=1, burst=2), clock)

    olu = [limiter.wait_s("olu") for _ in range(3)]
    quinn = [limiter.wait_s("quinn") for _ in range(2)]

    assert olu == [0, 0, 1]
    assert quinn == [0, 0]
