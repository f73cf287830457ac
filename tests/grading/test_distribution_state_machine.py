"""The distribution over a grading period: distribute, assess, late students, someone falls ill,
someone joins. Whatever happens, every response has exactly one assessor among those who have
ever been chosen, and an assessed response never changes hands."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from grading.distribution import (
    ANY,
    AVOID,
    BY_ITEM,
    BY_STUDENT,
    MIXED,
    PREFER,
    Assessor,
    Work,
    distribute,
    place_newcomers,
    redistribute,
)

WEIGHTS = [1, 3, 2, 4, 1]


class GradingPeriod(RuleBasedStateMachine):
    @initialize(
        students=st.integers(1, 12),
        assessors=st.integers(1, 5),
        mode=st.sampled_from([BY_STUDENT, BY_ITEM, MIXED]),
        own=st.sampled_from([ANY, AVOID, PREFER]),
    )
    def start(self, students, assessors, mode, own):
        self.mode, self.own, self.by_item = mode, own, {0, 2}
        self.next_student = students
        self.assessors = [
            Assessor(f"a{k}", frozenset(range(k, students, assessors))) for k in range(assessors)
        ]
        self.ever = {a.key for a in self.assessors}
        self.works = {
            (s, i): Work((s, i), s, i, w, i) for s in range(students) for i, w in enumerate(WEIGHTS)
        }
        self.assessed: set = set()
        self.holder = distribute(
            works=list(self.works.values()),
            assessors=self.assessors,
            mode=mode,
            by_item_items=self.by_item,
            own_groups=own,
        )

    def _current(self) -> list[Work]:
        return [
            Work(
                w.key,
                w.student,
                w.item,
                w.weight,
                w.item_order,
                self.holder[w.key],
                w.key in self.assessed,
            )
            for w in self.works.values()
        ]

    @rule(data=st.data())
    def assess_some(self, data):
        open_keys = sorted(set(self.works) - self.assessed)
        if open_keys:
            self.assessed |= set(data.draw(st.lists(st.sampled_from(open_keys), max_size=6)))

    @rule()
    def a_student_sits_late(self):
        s = self.next_student
        self.next_student += 1
        new = [Work((s, i), s, i, w, i) for i, w in enumerate(WEIGHTS)]
        added = place_newcomers(
            works=self._current(),
            newcomers=new,
            assessors=self.assessors,
            mode=self.mode,
            by_item_items=self.by_item,
            own_groups=self.own,
        )
        assert set(added) == {w.key for w in new}
        for work in new:
            self.works[work.key] = work
        self.holder.update(added)

    @precondition(lambda self: len(self.assessors) > 1)
    @rule(index=st.integers(0, 10))
    def someone_falls_ill(self, index):
        ill = self.assessors[index % len(self.assessors)]
        self.assessors = [a for a in self.assessors if a.key != ill.key]
        self._redistribute()

    @rule()
    def someone_joins(self):
        key = f"a{len(self.ever)}"
        self.ever.add(key)
        self.assessors = [*self.assessors, Assessor(key)]
        self._redistribute()

    def _redistribute(self):
        before = dict(self.holder)
        self.holder = redistribute(
            works=self._current(),
            assessors=self.assessors,
            mode=self.mode,
            by_item_items=self.by_item,
            own_groups=self.own,
        )
        for key in self.assessed:
            assert self.holder[key] == before[key]
        chosen = {a.key for a in self.assessors}
        assert all(self.holder[k] in chosen for k in self.works if k not in self.assessed)

    @invariant()
    def every_response_has_exactly_one_assessor(self):
        assert set(self.holder) == set(self.works)
        assert set(self.holder.values()) <= self.ever


GradingPeriod.TestCase.settings = settings(max_examples=60, stateful_step_count=12, deadline=None)
test_grading_period = GradingPeriod.TestCase
