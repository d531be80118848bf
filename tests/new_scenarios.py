"""The scenarios of issue 11, where static rules are expected to fall short: hidden
regime-switching demand, supplier outages, lost sales with a long lead time, lean starts."""

NEW_SCENARIOS = ()
