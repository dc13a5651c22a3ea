"""The circuit breaker's states on a hand-moved clock: trips after N consecutive failures,
refuses while open, probes once in the background after the open period, backs off when
the probe fails, and closes when it succeeds."""

from __future__ import annotations

from shared.breaker import CircuitBreaker


def is_open(breaker: CircuitBreaker) -> bool:
    return breaker.is_open  # a call: mypy must not narrow the property between steps


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_trips_refuses_probes_backs_off_and_closes() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("redis", failures=3, open_seconds=1.0, max_open_seconds=3.0,
                             clock=clock)
    probes: list[bool] = []
    outcome = {"ok": False}

    async def probe() -> None:
        probes.append(outcome["ok"])
        if not outcome["ok"]:
            raise ConnectionError("still down")

    breaker.set_probe(probe)
    breaker.record_failure()
    breaker.record_success()  # a success resets the count: failures must be consecutive
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.allow() and not is_open(breaker)
    breaker.record_failure()
    assert is_open(breaker) and breaker.trips == 1
    assert not breaker.allow()  # open: refused without calling anything
    assert probes == []

    clock.now += 1.0  # the open period passed: the next caller starts one probe, is refused
    assert not breaker.allow() and not breaker.allow()
    await breaker.wait_probe()
    assert probes == [False] and is_open(breaker)  # failed probe: open for 2 s now

    clock.now += 1.0
    assert not breaker.allow()
    await breaker.wait_probe()
    assert probes == [False]  # backing off: no probe before 2 s
    clock.now += 1.0
    outcome["ok"] = True
    assert not breaker.allow()
    await breaker.wait_probe()
    assert probes == [False, True] and not is_open(breaker)
    assert breaker.allow() and breaker.trips == 1


def test_without_a_probe_one_call_is_let_through() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("redis", failures=1, open_seconds=0.5, clock=clock)
    breaker.record_failure()
    assert not breaker.allow()
    clock.now += 0.5
    assert breaker.allow()  # the half-open trial call
    assert not breaker.allow()  # only one
    breaker.record_success()
    assert not is_open(breaker)
