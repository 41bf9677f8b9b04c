"""Unique coupon codes: one code per person and campaign, recorded in the
warehouse, synced as a field.

A sync whose declaration has a ``coupons:`` block (``CouponSpec``) gives
every sendable person of its audience who qualifies (``value_column`` set and
above 0, when named) their own code for that campaign, either from a pool
imported with ``activations coupons import FILE --campaign C`` or generated
(``codes.py``: ``secrets``, an alphabet without look-alikes, never reused).
The mapped fields ``coupon.code``, ``coupon.value``, ``coupon.value_type`` and
``coupon.expires_at`` then travel to the provider like any audience column.

Why this design:

- **A ledger, not a model.** Assignment must survive every dbt rebuild (the
  same person keeps the same code in the same campaign, forever), so it cannot
  be a function in a table dbt recreates from scratch: it is an append-only
  table, ``activations.coupon_assignments`` (unique (campaign, person_id) and
  unique code, ``ledger.py``), beside the sync state it belongs with. dbt reads
  it as the source ``activations.coupon_assignments``
  (``stg_activations__coupon_assignments`` → ``int_coupons_unioned``), so
  ``coupon_expiring``, the coupon metrics and redemption
  (``raw.orders.coupon_code``) use the assigned codes.
- **Assigned by the sync run, nowhere else.** Codes are assigned inside
  ``activations.sync.engine.run``, after the plan and its guards and before
  the write-ahead and any send (``assign.py``); the plan is then recomputed
  so the codes are part of the records' hashes. One way to do it, whether the
  run comes from the command line, the demo or Dagster (whose sync assets call
  the same engine, so the asset graph gains nothing). A dry run, ``activations
  plan`` and Dagster's plan asset only count who would need a code: they write
  nothing, codes included.
- **A dry pool stops the run before anyone gets an empty code.** The plan
  carries a ``coupons`` guard: more people need a code than the pool has
  unassigned, unexpired codes. It blocks the run (exit code 3, the message
  names the campaign and how many codes are missing) and, unlike the removal
  guards, ``--force`` does not override it: nothing is assigned, nothing is
  sent. After assignment the engine checks again that no sendable record is
  left without its code.
- **Stable and unique by constraint, not by luck.** Two syncs may share a
  campaign (the same codes to two providers): inserts go through the table's
  unique keys (``on conflict do nothing``) and the people still without a code
  are retried with fresh codes, so a race never gives one person two codes or
  one code two people.

Room: imports ``warehouse`` and ``errors`` only; ``sync`` imports this.
"""
