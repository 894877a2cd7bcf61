# Mirror of the shared semantics defined in sim/model.py: event kinds (in their processing
# order at one instant), outcome codes, routing policy ids and the two constants.
#
# sim/model.py is the source of truth. tests/engines/test_mirror.py compares the names and
# values below (exposed by sim._kernel as EVENT_ORDER, OUTCOME_NAMES, ARRIVAL_POLICY_NAMES,
# PULL_POLICY_NAMES, CAPACITY_UNITS, NO_AGENT) with the enums of sim.model.
#
# Each enum is followed by its size and by a function mapping a value to its sim.model name;
# the kernel builds its Python tuples from these functions, so a wrong value, a wrong name or
# a missing member here makes the mirror test fail.
#
# C names carry a prefix (EV_, OUT_, ARR_, PULL_) to keep them out of the C global namespace.

cdef enum:
    CAPACITY_UNITS = 60  # capacity of one agent in integer units
    NO_AGENT = -1  # agent id of a contact that was never assigned


# EventKind: processing order at one instant (lower first).
cdef enum EventKind:
    EV_AGENT_OFF = 0
    EV_COMPLETION = 1
    EV_ABANDON = 2
    EV_AGENT_ON = 3
    EV_ARRIVAL = 4
    EV_OVERFLOW = 5

cdef enum:
    N_EVENT_KINDS = 6

cdef inline const char* event_kind_name(int k) noexcept nogil:
    if k == EV_COMPLETION:
        return "COMPLETION"
    if k == EV_ABANDON:
        return "ABANDON"
    if k == EV_AGENT_OFF:
        return "AGENT_OFF"
    if k == EV_AGENT_ON:
        return "AGENT_ON"
    if k == EV_ARRIVAL:
        return "ARRIVAL"
    if k == EV_OVERFLOW:
        return "OVERFLOW"
    return NULL


# Outcome: what finally happened to a contact.
cdef enum Outcome:
    OUT_WAITING = 0
    OUT_ANSWERED = 1
    OUT_ABANDONED = 2
    OUT_LOST_CLOSED = 3

cdef enum:
    N_OUTCOMES = 4

cdef inline const char* outcome_name(int k) noexcept nogil:
    if k == OUT_WAITING:
        return "WAITING"
    if k == OUT_ANSWERED:
        return "ANSWERED"
    if k == OUT_ABANDONED:
        return "ABANDONED"
    if k == OUT_LOST_CLOSED:
        return "LOST_CLOSED"
    return NULL


# ArrivalPolicy: which idle agent takes an arriving contact.
cdef enum ArrivalPolicy:
    ARR_LONGEST_IDLE = 0
    ARR_SKILL_PRIORITY = 1
    ARR_MOST_PROFICIENT = 2
    ARR_RANDOM = 3

cdef enum:
    N_ARRIVAL_POLICIES = 4

cdef inline const char* arrival_policy_name(int k) noexcept nogil:
    if k == ARR_LONGEST_IDLE:
        return "LONGEST_IDLE"
    if k == ARR_SKILL_PRIORITY:
        return "SKILL_PRIORITY"
    if k == ARR_MOST_PROFICIENT:
        return "MOST_PROFICIENT"
    if k == ARR_RANDOM:
        return "RANDOM"
    return NULL


# PullPolicy: which waiting contact an agent with free capacity takes.
cdef enum PullPolicy:
    PULL_QUEUE_PRIORITY = 0
    PULL_OLDEST = 1
    PULL_SLA_URGENCY = 2
    PULL_WEIGHTED_WAIT = 3

cdef enum:
    N_PULL_POLICIES = 4

cdef inline const char* pull_policy_name(int k) noexcept nogil:
    if k == PULL_QUEUE_PRIORITY:
        return "QUEUE_PRIORITY"
    if k == PULL_OLDEST:
        return "OLDEST"
    if k == PULL_SLA_URGENCY:
        return "SLA_URGENCY"
    if k == PULL_WEIGHTED_WAIT:
        return "WEIGHTED_WAIT"
    return NULL


# ContactKind: why a contact exists (journeys).
cdef enum ContactKind:
    KIND_FIRST = 0
    KIND_REPEAT = 1
    KIND_RETRIAL = 2
    KIND_TRANSFER = 3
    KIND_TASK = 4
    KIND_CALLBACK = 5

cdef enum:
    N_CONTACT_KINDS = 6

cdef inline const char* contact_kind_name(int k) noexcept nogil:
    if k == KIND_FIRST:
        return "FIRST"
    if k == KIND_REPEAT:
        return "REPEAT"
    if k == KIND_RETRIAL:
        return "RETRIAL"
    if k == KIND_TRANSFER:
        return "TRANSFER"
    if k == KIND_TASK:
        return "TASK"
    if k == KIND_CALLBACK:
        return "CALLBACK"
    return NULL


# Fate: what a contact's end decided for its journey.
cdef enum Fate:
    FATE_NONE = 0
    FATE_RESOLVED = 1
    FATE_REPEAT = 2
    FATE_UNRESOLVED = 3
    FATE_ESCALATED = 4
    FATE_TRANSFERRED = 5
    FATE_RETRIED = 6
    FATE_GAVE_UP = 7
    FATE_CALLBACK = 8

cdef enum:
    N_FATES = 9

cdef inline const char* fate_name(int k) noexcept nogil:
    if k == FATE_NONE:
        return "NONE"
    if k == FATE_RESOLVED:
        return "RESOLVED"
    if k == FATE_REPEAT:
        return "REPEAT"
    if k == FATE_UNRESOLVED:
        return "UNRESOLVED"
    if k == FATE_ESCALATED:
        return "ESCALATED"
    if k == FATE_TRANSFERRED:
        return "TRANSFERRED"
    if k == FATE_RETRIED:
        return "RETRIED"
    if k == FATE_GAVE_UP:
        return "GAVE_UP"
    if k == FATE_CALLBACK:
        return "CALLBACK"
    return NULL


cdef enum:
    FOLLOWUP_BASE = 1073741824  # 1 << 30: global ids of follow-up contacts start here
    POOL_BLOCK = 256  # follow-up draws per pool block (sim.model.POOL_BLOCK)
