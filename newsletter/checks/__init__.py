"""The preflight: every rule that catches what would embarrass us in a subscriber's inbox."""
