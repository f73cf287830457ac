"""The timer state machine: the deadline formula holds and the deadline never moves earlier."""

import datetime
import uuid

import pytest
import time_machine
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from delivery import attempts, closing, devices, save_rule, saves, timer
from delivery.models import Attempt, AttemptStatus, Response
from exams.models import Item
from tests.delivery.attempt_helpers import local_at, make_sitting, proctor

GRACE = 60


def test_pure_deadline_arithmetic():
    start = local_at(10)
    clock = timer.start(timer.Clock(), now=start, duration_seconds=2700, extended_seconds=600)
    clock = timer.pause(clock, now=start + datetime.timedelta(minutes=5))
    assert clock.remaining_seconds(start + datetime.timedelta(minutes=30)) == 3300 - 300
    clock = timer.resume(clock, now=start + datetime.timedelta(minutes=8, microseconds=1))
    clock = timer.add_time(clock, seconds=120)
    assert clock.deadline == start + datetime.timedelta(seconds=2700 + 600 + 120 + 181)
    with pytest.raises(ValueError):
        timer.add_time(clock, seconds=0)


def test_reopen_after_the_time_ran_out_counts_the_added_minutes_from_now():
    start = local_at(10)
    clock = timer.start(timer.Clock(), now=start, duration_seconds=600, extended_seconds=0)
    submitted = start + datetime.timedelta(seconds=720)  # the automatic submit: deadline + grace
    now = submitted + datetime.timedelta(minutes=3, microseconds=5)
    credited = timer.reopen(clock, since=submitted, now=now)
    assert credited.deadline < now  # crediting alone leaves the time up
    reopened = timer.reopen(clock, since=submitted, now=now, add_seconds=300)
    assert now + datetime.timedelta(seconds=300) <= reopened.deadline
    assert reopened.deadline < now + datetime.timedelta(seconds=301)
    assert reopened.deadline >= credited.deadline
    with pytest.raises(ValueError):
        timer.reopen(clock, since=submitted, now=now, add_seconds=-1)


class AttemptMachine(RuleBasedStateMachine):
    world = None

    @initialize()
    def setup(self):
        self.traveller = time_machine.travel(local_at(9), tick=False)
        self.clock = self.traveller.start()
        self.sitting = make_sitting(self.world, duration_minutes=20)
        self.person = self.sitting.placements.first().person
        attempts.attempt_release(
            actor=proctor(self.world), sitting=self.sitting, person=self.person
        )
        self.attempt = Attempt.objects.get(sitting=self.sitting, person=self.person)
        self.attempt, self.token, _ = devices.attempt_login(attempt=self.attempt)
        self.items = [str(i.public_id) for i in Item.objects.filter(subtest=self.sitting.subtest)]
        self.seq = 0
        self.newest: dict[str, int] = {}
        self.max_deadline = None
        self.online = True
        self.buffer: list[save_rule.Save] = []
        self.reopened_at = None

    def teardown(self):
        self.traveller.stop()

    def _reload(self):
        self.attempt.refresh_from_db()
        return self.attempt

    @rule()
    def start(self):
        attempts.attempt_start(attempt=self.attempt)

    @rule(seconds=st.integers(1, 900))
    def time_passes(self, seconds):
        self.clock.shift(datetime.timedelta(seconds=seconds))

    @rule()
    def pause(self):
        try:
            attempts.attempt_pause(actor=proctor(self.world), attempt=self.attempt)
        except attempts.AttemptRefused:
            assert self._reload().status != AttemptStatus.WORKING

    @rule()
    def resume(self):
        try:
            attempts.attempt_resume(actor=proctor(self.world), attempt=self.attempt)
        except attempts.AttemptRefused:
            assert self._reload().status != AttemptStatus.PAUSED

    @rule(minutes=st.integers(1, 15))
    def add_time(self, minutes):
        try:
            attempts.attempt_add_time(
                actor=proctor(self.world), attempt=self.attempt, minutes=minutes, reason="r"
            )
        except attempts.AttemptRefused:
            assert self._reload().status in (AttemptStatus.SUBMITTED,)

    @rule()
    def disconnect(self):
        self.online = False

    @rule()
    def reconnect(self):
        self.online = True
        self._deliver(self.buffer)
        self.buffer = []

    @rule()
    def device_switch(self):
        self.attempt, self.token, _ = devices.attempt_login(attempt=self.attempt)
        self.buffer = []  # the old device's buffer is refused; the new one starts from the server

    @rule(index=st.integers(0, 4))
    def answer(self, index):
        self.seq += 1
        save = save_rule.Save(
            item=self.items[index],
            seq=self.seq,
            content=f"v{self.seq}",
            client_saved_at=datetime.datetime.now(datetime.UTC),
        )
        if self.online:
            self._deliver([save])
        else:
            self.buffer.append(save)

    def _deliver(self, batch):
        if not batch:
            return
        before = self._reload().status
        result = saves.responses_save(
            attempt_public_id=self.attempt.public_id, device_token=self.token, saves=batch
        )
        if before == AttemptStatus.SUBMITTED:
            assert result.refused == "submitted" and not result.acked
        for ack in result.acked:
            self.newest[ack["item"]] = max(self.newest.get(ack["item"], 0), ack["seq"])

    @rule()
    def submit(self):
        try:
            attempts.attempt_submit(attempt=self.attempt)
        except attempts.AttemptRefused:
            assert self._reload().status not in AttemptStatus.OPEN

    @rule()
    def auto_submit(self):
        now = datetime.datetime.now(datetime.UTC)
        before = self._reload()
        due = (
            before.status == AttemptStatus.WORKING
            and now >= before.deadline + datetime.timedelta(seconds=GRACE)
        )
        closing.attempts_auto_submit_due()
        after = self._reload()
        if due:
            assert after.status == AttemptStatus.SUBMITTED and after.auto_submitted
        elif before.status != AttemptStatus.SUBMITTED:
            assert after.status == before.status

    @rule(minutes=st.one_of(st.none(), st.integers(1, 15)))
    def reopen(self, minutes):
        before = self._reload()
        try:
            attempts.attempt_reopen(
                actor=proctor(self.world), attempt=self.attempt, reason="r", minutes=minutes
            )
        except attempts.AttemptRefused as refused:
            assert before.status != AttemptStatus.SUBMITTED or (
                refused.code == "minutes_required" and minutes is None
            )
        else:
            self.reopened_at = datetime.datetime.now(datetime.UTC)

    @invariant()
    def deadline_follows_the_formula_and_never_moves_earlier(self):
        if not hasattr(self, "attempt"):
            return
        a = self._reload()
        if a.started_at is None:
            assert a.deadline is None
            return
        total = a.duration_seconds + a.extended_seconds + a.added_seconds + a.paused_seconds
        assert a.deadline == a.started_at + datetime.timedelta(seconds=total)
        if self.max_deadline is not None:
            assert a.deadline >= self.max_deadline
        self.max_deadline = a.deadline
        if a.auto_submitted:
            assert a.submitted_at >= a.deadline

    @invariant()
    def a_reopened_attempt_has_its_deadline_in_the_future(self):
        if getattr(self, "reopened_at", None) is None:
            return
        a = self._reload()
        now = datetime.datetime.now(datetime.UTC)
        if now == self.reopened_at and a.status == AttemptStatus.WORKING:
            assert a.deadline >= now + datetime.timedelta(seconds=attempts.REOPEN_MIN_REMAINING_S)
            # Earlier examples' attempts share the database and may be due; this one must not be.
            closing.attempts_auto_submit_due()
            assert self._reload().status == AttemptStatus.WORKING

    @invariant()
    def acknowledged_answers_are_held(self):
        if not hasattr(self, "attempt"):
            return
        held = dict(
            Response.objects.filter(attempt=self.attempt).values_list("item__public_id", "seq")
        )
        for item, seq in self.newest.items():
            assert held[uuid.UUID(item)] >= seq


def test_timer_state_machine(world, settings):
    settings.DELIVERY_LATE_GRACE_S = GRACE
    AttemptMachine.world = world
    AttemptMachine.TestCase.settings = hypothesis_settings(
        max_examples=25,
        stateful_step_count=30,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    AttemptMachine.TestCase("runTest").runTest()
