"""The raw landing schema: the one contract between everything that loads data
(the synthetic generator, historical imports, ESP pull-backs and webhooks) and
the dbt sources in ``dbt_project/models/staging``.

All timestamps are UTC, stored as naive ``timestamp``. JSON payloads are stored
as text holding a JSON object so that the same DDL runs on DuckDB and
PostgreSQL; staging parses them through the ``json_text`` macro.
"""

from __future__ import annotations

RAW_SCHEMA = "raw"

# table name -> ordered (column, portable SQL type) pairs
RAW_TABLES: dict[str, list[tuple[str, str]]] = {
    # Segment-style track calls (e-commerce spec plus newsletter and chatbot events)
    "events": [
        ("message_id", "varchar"),  # unique per call
        ("anonymous_id", "varchar"),  # browser id, always set
        ("user_id", "varchar"),  # customers.customer_id once known, else null
        ("event", "varchar"),  # 'Product Viewed', 'Product Added', ...
        ("timestamp", "timestamp"),  # when it happened (UTC)
        ("received_at", "timestamp"),  # when the collector received it (UTC)
        ("properties", "varchar"),  # JSON object, see EVENT_PROPERTIES
        # JSON object: page{url,path,referrer}, campaign{source,medium,name,content}, device{type}
        ("context", "varchar"),
    ],
    # identify calls: tie an anonymous browser to a known person
    "identifies": [
        ("message_id", "varchar"),
        ("user_id", "varchar"),
        ("anonymous_id", "varchar"),
        ("traits", "varchar"),  # JSON object: email, first_name, ...
        ("timestamp", "timestamp"),
    ],
    "customers": [
        ("customer_id", "varchar"),
        ("email", "varchar"),  # as typed by the person: may carry spaces or capitals
        ("phone", "varchar"),
        ("first_name", "varchar"),
        ("last_name", "varchar"),
        ("birth_date", "date"),
        ("country", "varchar"),  # ISO 3166-1 alpha-2
        ("created_at", "timestamp"),
    ],
    "orders": [
        ("order_id", "varchar"),
        ("customer_id", "varchar"),  # null for a guest order of an unknown person
        # the cart (events.properties.cart_id) the order came from, when known
        ("cart_id", "varchar"),
        ("placed_at", "timestamp"),
        ("status", "varchar"),  # pending_payment | paid | shipped | cancelled | refunded
        ("currency", "varchar"),  # ISO 4217
        ("subtotal", "decimal(12,2)"),  # sum of line amounts
        ("discount", "decimal(12,2)"),  # coupon discount, >= 0
        ("shipping", "decimal(12,2)"),
        ("total", "decimal(12,2)"),  # subtotal - discount + shipping
        ("coupon_code", "varchar"),  # coupons.coupon_code or null
        ("updated_at", "timestamp"),  # last status change
    ],
    "order_items": [
        ("order_id", "varchar"),
        ("line_number", "integer"),  # 1-based within the order
        ("product_id", "varchar"),
        ("quantity", "integer"),
        ("unit_price", "decimal(12,2)"),
    ],
    "products": [
        ("product_id", "varchar"),
        ("sku", "varchar"),
        ("name", "varchar"),
        ("category", "varchar"),  # food | non-food
        ("subcategory", "varchar"),  # e.g. coffee, pet food, kitchen
        ("price", "decimal(12,2)"),
        ("in_stock", "boolean"),
        ("replenishable", "boolean"),
        ("replenish_cycle_days", "integer"),  # null unless replenishable
        ("image_url", "varchar"),
        ("product_url", "varchar"),
        ("updated_at", "timestamp"),
    ],
    # append-only consent log; the latest changed_at per person and channel wins
    "consents": [
        ("consent_id", "varchar"),
        ("customer_id", "varchar"),  # null when only the email is known (pop-up before account)
        ("email", "varchar"),
        ("channel", "varchar"),  # email | sms
        ("status", "varchar"),  # subscribed | unsubscribed | bounced | spam_complaint
        ("source", "varchar"),  # popup | checkout | import | esp
        ("double_opt_in_confirmed_at", "timestamp"),  # set once the confirmation link was clicked
        ("changed_at", "timestamp"),
    ],
    "campaigns": [
        ("campaign_id", "varchar"),
        ("name", "varchar"),
        ("kind", "varchar"),  # campaign (one-off send) | flow (triggered)
        # cart_abandoners, browse_abandoners, welcome_series, dormant_customers, newsletter, ...
        ("program", "varchar"),
        ("ab_test", "varchar"),  # subject | image | null
        ("started_at", "timestamp"),
    ],
    "coupons": [
        ("coupon_code", "varchar"),
        ("customer_id", "varchar"),
        ("campaign_id", "varchar"),
        ("value", "decimal(12,2)"),
        ("value_type", "varchar"),  # amount | percent
        ("issued_at", "timestamp"),
        ("expires_at", "timestamp"),
        ("redeemed_at", "timestamp"),
        ("order_id", "varchar"),  # the order that redeemed it
    ],
    "email_events": [
        ("event_id", "varchar"),  # unique
        ("message_id", "varchar"),  # one email sent to one person
        ("customer_id", "varchar"),
        ("email", "varchar"),
        ("campaign_id", "varchar"),  # campaigns.campaign_id (campaign or flow)
        ("variant", "varchar"),  # A | B | null
        # sent | delivered | opened | clicked | bounced | spam | unsubscribed | held_out
        # (held_out: the program's trigger fired, the person is in its control group, no email)
        ("event_type", "varchar"),
        ("bounce_type", "varchar"),  # hard | soft, only for bounced
        ("url", "varchar"),  # clicked link, only for clicked
        ("provider", "varchar"),  # braze | klaviyo | mailchimp | sendgrid | customerio | generator
        ("occurred_at", "timestamp"),
    ],
    # brand community (source `community`): members, their content and loyalty points
    "members": [
        ("member_id", "varchar"),
        ("customer_id", "varchar"),  # customers.customer_id; null for a member without an account
        ("display_name", "varchar"),
        ("status", "varchar"),  # active | banned | left
        ("joined_at", "timestamp"),
        ("updated_at", "timestamp"),  # last change to the row (status)
    ],
    "posts": [
        ("post_id", "varchar"),
        ("member_id", "varchar"),  # the author
        ("kind", "varchar"),  # review | question | photo | discussion
        ("product_id", "varchar"),  # products.product_id the post is about, or null
        ("rating", "integer"),  # 1..5 stars, reviews only
        ("title", "varchar"),
        ("word_count", "integer"),
        ("status", "varchar"),  # published | removed (by moderation)
        ("created_at", "timestamp"),
    ],
    "answers": [
        ("answer_id", "varchar"),
        ("post_id", "varchar"),  # the question (posts.kind = question) answered
        ("member_id", "varchar"),  # the author
        ("word_count", "integer"),
        ("is_accepted", "boolean"),  # marked as the answer by the asker
        ("status", "varchar"),  # published | removed
        ("created_at", "timestamp"),
    ],
    "reactions": [
        ("reaction_id", "varchar"),
        ("member_id", "varchar"),  # who reacted
        ("target_type", "varchar"),  # post | answer
        ("target_id", "varchar"),  # posts.post_id or answers.answer_id
        ("reaction", "varchar"),  # like | helpful
        ("created_at", "timestamp"),
    ],
    "product_tests": [
        ("product_test_id", "varchar"),
        ("product_id", "varchar"),  # the product being tested
        ("title", "varchar"),
        ("places", "integer"),  # how many testers are selected
        ("applications_open_at", "timestamp"),
        ("applications_close_at", "timestamp"),
    ],
    "product_test_applications": [
        ("application_id", "varchar"),
        ("product_test_id", "varchar"),
        ("member_id", "varchar"),
        ("status", "varchar"),  # applied | selected | not_selected
        ("applied_at", "timestamp"),
        ("decided_at", "timestamp"),  # null while applied
    ],
    "product_test_results": [
        ("result_id", "varchar"),
        ("application_id", "varchar"),  # the selected application
        ("product_test_id", "varchar"),
        ("member_id", "varchar"),
        ("rating", "integer"),  # 1..5 stars
        ("would_recommend", "boolean"),
        ("word_count", "integer"),
        ("submitted_at", "timestamp"),
    ],
    # loyalty points ledger: one row per movement; the balance is the sum up to a moment
    "point_movements": [
        ("movement_id", "varchar"),
        ("member_id", "varchar"),
        ("points", "integer"),  # earned > 0, redeemed or expired < 0
        # welcome | post | review | answer | product_test | redemption
        ("reason", "varchar"),
        ("reference_id", "varchar"),  # the post, answer or test result that earned them, or null
        ("occurred_at", "timestamp"),
    ],
}

# Calls the event collector (activations/collect) refused, with the reason. Not a
# landing table of the contract above (no dbt source reads it): kept apart from
# RAW_TABLES so loaders, sources and counts ignore it; the collector creates it.
REJECT_TABLES: dict[str, list[tuple[str, str]]] = {
    "collector_rejects": [
        ("reject_id", "varchar"),  # unique
        ("received_at", "timestamp"),  # when the collector received the call (UTC)
        ("endpoint", "varchar"),  # '/v1/track', '/v1/batch', ...
        ("message_id", "varchar"),  # the call's messageId when it could be read, else null
        ("reason", "varchar"),  # why: 'Exceed payload limit', 'missing event', ...
        ("payload", "varchar"),  # the call as sent, cut at 32 KB
    ],
}

# Landed by a step of the build, not by a loader: activations/warehouse/phones.py
# normalises every (phone as typed, country) pair of raw.customers with the
# `phonenumbers` library before dbt runs (SQL cannot call it portably). Kept
# apart from RAW_TABLES: the generator, imports and the ingest assets never
# write it; stg_shop__customers reads it as source shop.phone_numbers.
NORMALISED_TABLES: dict[str, list[tuple[str, str]]] = {
    "phone_numbers": [
        ("phone_raw", "varchar"),  # customers.phone exactly as typed
        ("country", "varchar"),  # customers.country as typed: the default region
        ("phone_e164", "varchar"),  # +4917012345678, null when invalid
        # null when valid; missing | not_a_number | too_short | too_long | invalid_length
        # | invalid_country_code | invalid_for_region | unknown_region
        ("invalid_reason", "varchar"),
        ("normalised_at", "timestamp"),  # when the pair was parsed (UTC)
    ],
}

# the dbt source (models/staging/<source>/) of each raw table: the ingest assets' key prefix
RAW_SOURCES: dict[str, str] = {
    "events": "app", "identifies": "app", "campaigns": "esp", "email_events": "esp",
    "customers": "shop", "orders": "shop", "order_items": "shop", "products": "shop",
    "consents": "shop", "coupons": "shop", "phone_numbers": "shop",
    "members": "community", "posts": "community", "answers": "community",
    "reactions": "community", "product_tests": "community",
    "product_test_applications": "community", "product_test_results": "community",
    "point_movements": "community",
}  # fmt: skip

# What the JSON `properties` of each event carries (documentation and generator contract).
EVENT_PROPERTIES: dict[str, list[str]] = {
    "Product Viewed": ["product_id", "sku", "name", "category", "price", "url", "image_url"],
    "Product Added": ["cart_id", "product_id", "sku", "name", "price", "quantity"],
    "Product Removed": ["cart_id", "product_id", "sku", "name", "price", "quantity"],
    "Cart Viewed": ["cart_id", "products"],
    "Checkout Started": ["cart_id", "value", "currency", "products"],
    "Order Completed": [
        "order_id", "cart_id", "total", "revenue", "discount", "coupon", "currency", "products",
    ],
    "Newsletter Popup Shown": ["popup_id"],
    "Newsletter Signup Submitted": ["email", "source"],
    "Chatbot Started": ["conversation_id", "topic"],
    "Chatbot Ended": ["conversation_id", "resolved", "messages"],
    "Coupon Applied": ["cart_id", "coupon"],
}


def create_table_sql(table: str, schema: str = RAW_SCHEMA) -> str:
    columns = {**RAW_TABLES, **REJECT_TABLES, **NORMALISED_TABLES}[table]
    cols = ",\n  ".join(f'"{name}" {type_}' for name, type_ in columns)
    return f"create table if not exists {schema}.{table} (\n  {cols}\n)"


def create_raw_schema_sql(schema: str = RAW_SCHEMA) -> list[str]:
    """Statements that create schema ``raw`` and every landing table, idempotently."""
    return [f"create schema if not exists {schema}"] + [
        create_table_sql(t, schema) for t in RAW_TABLES
    ]
