"""Rules and handlers added to the intake after its core: importing this module adds them.

Each add-on is a module of its own that registers with intake.RULES and intake.HANDLERS
when imported; naming it here is the only edit it needs (the review queue, the
Authentication-Results check, unsubscribe words in replies, date plausibility are next).
"""
