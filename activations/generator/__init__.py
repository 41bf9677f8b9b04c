"""Synthetic shop data: a grocery and household e-shop, seeded and streamed into ``raw``.

``generate(con_or_path, customers=..., days=..., seed=...)`` replaces every raw
landing table (see ``activations.warehouse.raw_schema``) with ``days`` days of history
ending at ``end``. Same seed, days and chunk size => identical data.

Customers are simulated in chunks, each with its own random generator derived
from the seed (numpy PCG64), fully vectorised; each chunk is written as Arrow
tables with ``insert into raw.x select ... from frame`` in one transaction, so
memory stays near 1 GB whatever the scale (chunks hold at most 450,000
customer-days, DuckDB's buffer is capped at 1 GB when ``generate`` opens the
file). The tables are dropped and recreated first; a run that fails half-way
leaves partial data that the next run replaces.

Realism targets (checked by tests/activations/generator on 2,000 customers x 60 days):

- about 300 products, food and non-food, ~7% out of stock, image and product URLs;
  replenishable staples (coffee, pet food, detergent, diapers, ...) with cycles of 14-60 days,
  re-bought near their cycle;
- cart abandonment 65-75% (carts with Product Added that never became an order);
- order value heavy-tailed: mean > median, p99 > 3 x median;
- weekly seasonality: weekend days have clearly fewer events than weekdays;
- repeat purchase is Pareto-like: the top 20% of buyers place well over a third of orders;
- order statuses mostly paid/shipped, some pending_payment (recent), 2-5% cancelled or refunded;
- messy emails (capitals, spaces, a few invalid) and birth dates for ~90% of customers;
- newsletter pop-up: 3-8% of impressions submit, 60-80% of sign-ups confirm the double opt-in;
  unsubscribes rise with tenure; hard bounces and rare spam complaints end a subscription;
- email: delivered 97-99% of sent, opened 20-45% and clicked 2-5% of delivered, unsubscribed
  0.1-0.5%; A/B variants with a real difference; only confirmed subscribers are mailed;
- clicks lead to visits (utm_medium=email) and sometimes orders within days; coupons
  (5/10/15 EUR or 10%) are redeemed 15-30% of the time;
- chatbot conversations (some unresolved), anonymous visits tied to people by identify calls.
- a brand community (``community``): 10-20% of customers are members, most of them quiet and a
  few very active; a few percent of members are ambassadors; members open more email and
  visit (so buy) more once they have joined: a real, moderate effect.

The email history agrees with the contact policy (``holdout``, ``email``):

- control groups: every program but the newsletter holds out the people whose
  ``control_bucket(customer_id, program)`` (the dbt macro, md5-based) is below the
  program's ``control_share`` in ``dbt_project/seeds/audience_policies.csv``. They get
  none of its emails, coupons or email-caused visits; the trigger is recorded as one
  ``held_out`` email event (no fake send), which ``int_program_members_reconstructed``
  counts as program entry, so ``program_lift`` compares real treated and control groups;
- hand-over at ``end``: flow messages due in the last 24 hours, birthday emails for
  birthdays from the end date on (the 7-day lookahead) and reminders of coupons that
  expire after ``end`` are left unsent, for the product to send at ``as_of = end``.
"""

from __future__ import annotations

from activations.generator.generate import MAX_CUSTOMERS, MAX_DAYS, generate

__all__ = ["generate", "MAX_CUSTOMERS", "MAX_DAYS"]
