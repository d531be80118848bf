"""The scenarios of issue 11, where static rules are expected to fall short: a lean start,
hidden regime-switching demand, supplier outages, lost sales with a long lead time, and two
combinations."""

NEW_SCENARIOS = (
    "lean_start",
    "regime_switching",
    "supplier_outages",
    "lost_sales_long_lead",
    "regimes_long_lead_three_stores",
    "six_stores_regimes_outages",
)
