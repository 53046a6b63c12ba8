"""Rules and handlers added to the intake after its core: importing this module adds them.

Each add-on is a module of its own that registers with intake.RULES and intake.HANDLERS
when imported; naming it here is the only edit it needs.

    65 discreet_requests.discreet_asks the discreet subscribe and the switch (discreet: set)
    55 leave_words.asks_to_leave       the writer's own text asks to stop: unsubscribe
    44 authentication.authenticated    Authentication-Results of our own provider (RFC 8601)
    38 dates.plausible_date            a Date before the list could exist or far ahead: held
    25 one_address.one_address         an unsubscribe for one address only, else held
     5 queue.held_for_the_editor       whatever is not understood waits for the editor
"""

from . import (  # noqa: F401
    authentication,
    dates,
    discreet_requests,
    leave_words,
    one_address,
    queue,
)
