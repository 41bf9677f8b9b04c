"""Columnar frames into the raw tables: one Arrow table per chunk and table,
inserted with ``insert into raw.x select ... from frame`` (ids, JSON text and
URLs are built by DuckDB, vectorised). Never row by row.
"""

from __future__ import annotations

import contextlib
import json

import duckdb
import numpy as np
import pyarrow as pa
from duckdb import DuckDBPyConnection

from activations.generator.campaigns import Campaigns
from activations.generator.catalog import SHOP_URL, Catalog
from activations.generator.consent import SOURCES as CONSENT_SOURCES
from activations.generator.consent import STATUSES as CONSENT_STATUSES
from activations.generator.email import EVENT_TYPES
from activations.generator.events import CODE, EVENT_NAMES
from activations.generator.ids import hex_ids, numbered, uuids
from activations.generator.orders import STATUSES as ORDER_STATUSES
from activations.generator.people import DEVICE_TYPES
from activations.generator.sessions import CHATBOT_TOPICS, KIND, NEVER, SOURCES, Sessions
from activations.generator.simulate import Chunk
from activations.generator.sms import messy_phones, sms_consents
from activations.warehouse.raw_schema import RAW_SCHEMA, RAW_TABLES

SLICE_ROWS = 250_000  # rows per insert statement
LOCAL_LIMIT = 10_000_000  # ids of carts, orders and coupons are chunk * LOCAL_LIMIT + local
COUPON_PREFIX = {
    "welcome_series": "WELCOME",
    "cart_abandoners": "CART",
    "birthday_upcoming": "BDAY",
    "dormant_customers": "MISSYOU",
}

MACROS = [
    "create or replace temp macro gen_ts(s) as make_timestamp(s * 1000000)",
    "create or replace temp macro gen_customer_id(n) as printf('cus_%08d', n)",
]


def _ts(seconds: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """Epoch seconds as an Arrow timestamp column (UTC, naive)."""
    values = np.asarray(seconds, dtype=np.int64)
    if mask is not None:
        values = np.where(mask, 0, values)
    return pa.array(values, pa.int64(), mask=mask).cast(pa.timestamp("s"))


def _opt(values: np.ndarray, valid: np.ndarray, type_: pa.DataType) -> pa.Array:
    return pa.array(np.where(valid, values, 0), type_, mask=~valid)


def _labels(codes: np.ndarray, labels: tuple | list | np.ndarray) -> pa.Array:
    """Codes as a dictionary-encoded string column (None labels become nulls)."""
    present = [i for i, v in enumerate(labels) if v is not None]
    remap = np.full(len(labels), -1, dtype=np.int32)
    remap[present] = np.arange(len(present), dtype=np.int32)
    codes = np.asarray(codes, dtype=np.int64)
    idx = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
    return pa.DictionaryArray.from_arrays(
        pa.array(np.maximum(idx, 0), pa.int32(), mask=idx < 0),
        pa.array([labels[i] for i in present], pa.string()),
    )


class _Columns:
    """Session fields per event, taken lazily (only the ones used)."""

    def __init__(self, sessions: Sessions, index: np.ndarray):
        self._sessions, self._index, self._cache = sessions, index, {}

    def __getattr__(self, name: str) -> np.ndarray:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._cache:
            self._cache[name] = getattr(self._sessions, name)[self._index]
        return self._cache[name]


class Writer:
    """Writes chunks into one DuckDB connection's ``raw`` schema."""

    def __init__(self, con: DuckDBPyConnection, seed: int, catalog: Catalog, campaigns: Campaigns):
        self.con = con
        self.seed = seed
        self.catalog = catalog
        self.campaigns = campaigns
        for sql in MACROS:
            con.execute(sql)
        products = catalog.table(0)
        products = products.append_column("idx", pa.array(np.arange(len(catalog)), pa.int64()))
        products = products.append_column("slug", pa.array(catalog.slug, pa.string()))
        products = products.append_column(
            "viewed_json", pa.array(catalog.viewed_json(), pa.string())
        )
        products = products.append_column("item_head", pa.array(catalog.item_head(), pa.string()))
        products = products.append_column(
            "added_fragment", pa.array(catalog.added_fragment(), pa.string())
        )
        self._register("gen_products", products)
        cmp = campaigns.table().append_column(
            "idx", pa.array(np.arange(len(campaigns)), pa.int64())
        )
        self._register("gen_campaigns", cmp)

    def close(self) -> None:
        """Remove the helper views and macros from the connection."""
        for name in ("gen_products", "gen_campaigns"):
            with contextlib.suppress(duckdb.Error):
                self.con.unregister(name)
        for macro in ("gen_ts", "gen_customer_id"):
            with contextlib.suppress(duckdb.Error):
                self.con.execute(f"drop macro if exists {macro}")

    def _register(self, name: str, table: pa.Table) -> None:
        self.con.register(name, table)

    def _insert(self, table: str, frame: pa.Table, select: str) -> None:
        """``insert into raw.<table> <select from frame>``, in slices to bound DuckDB's memory."""
        cols = ", ".join(f'"{c}"' for c, _ in RAW_TABLES[table])
        for offset in range(0, max(len(frame), 1), SLICE_ROWS):
            self.con.register("frame", frame.slice(offset, SLICE_ROWS))
            try:
                self.con.execute(f"insert into {RAW_SCHEMA}.{table} ({cols}) {select}")
            finally:
                with contextlib.suppress(duckdb.Error):
                    self.con.unregister("frame")

    # ---- tables written once
    def write_catalog(self, updated_s: int) -> None:
        self._insert(
            "products",
            self.catalog.table(updated_s),
            """
       select product_id, sku, name, category, subcategory, cast(price as decimal(12, 2)), in_stock,
                   replenishable, replenish_cycle_days, image_url, product_url, gen_ts(updated_at_s)
            from frame""",
        )

    def write_campaigns(self) -> None:
        self._insert(
            "campaigns",
            self.campaigns.table(),
            """
            select campaign_id, name, kind, program, ab_test, gen_ts(started_s) from frame""",
        )

    # ---- per chunk
    def write_chunk(self, chunk: Chunk) -> None:
        for n_local in (
            len(chunk.orders),
            len(chunk.coupons),
            int(chunk.sessions.cart.max(initial=0)),
            len(chunk.sessions),
        ):
            if n_local >= LOCAL_LIMIT:
                raise ValueError("a chunk holds too many carts or orders: lower chunk_customers")
        self._customers(chunk)
        self._orders(chunk)
        self._events(chunk)
        self._identifies(chunk)
        self._consents(chunk)
        self._emails(chunk)
        self._coupons(chunk)

    def _base(self, chunk: Chunk) -> int:
        return chunk.number * LOCAL_LIMIT

    def _customers(self, chunk: Chunk) -> None:
        people = chunk.people
        frame = people.table()
        typed = messy_phones(self._rng(chunk, 20), people.phone, people.country)
        frame = frame.set_column(
            frame.schema.get_field_index("phone"), "phone", pa.array(typed, pa.string())
        )
        self._insert(
            "customers",
            frame,
            """
            select gen_customer_id(number), email, phone, first_name, last_name,
                   cast(date '1970-01-01' + birth_day as date), country, gen_ts(created_s)
            from frame""",
        )

    def _orders(self, chunk: Chunk) -> None:
        o, base = chunk.orders, self._base(chunk)
        codes = self._coupon_codes(chunk)
        has_coupon = o.coupon >= 0
        frame = pa.table(
            {
                "order_id": numbered("ord_", base + np.arange(len(o)) + 1, 11),
                "customer": pa.array(chunk.people.number[o.cust], pa.int64()),
                "cart_id": numbered("cart_", base + o.cart + 1, 11),
                "placed_s": _ts(o.placed_s),
                "status": pa.array(np.array(ORDER_STATUSES, dtype=object)[o.status], pa.string()),
                "subtotal": pa.array(o.subtotal),
                "discount": pa.array(o.discount),
                "shipping": pa.array(o.shipping),
                "total": pa.array(o.total),
                "coupon_code": pa.array(
                    np.where(
                        has_coupon,
                        codes[np.where(has_coupon, o.coupon, 0)] if len(codes) else None,
                        None,
                    ),
                    pa.string(),
                ),
                "updated_s": _ts(o.updated_s),
            }
        )
        self._insert(
            "orders",
            frame,
            """
        select order_id, gen_customer_id(customer), cart_id,
                   placed_s, status, 'EUR', cast(subtotal as decimal(12, 2)),
                   cast(discount as decimal(12, 2)), cast(shipping as decimal(12, 2)),
                   cast(subtotal as decimal(12, 2)) - cast(discount as decimal(12, 2))
                     + cast(shipping as decimal(12, 2)),
                   coupon_code, updated_s
            from frame""",
        )
        lines = chunk.lines
        cart_order = np.full(int(chunk.sessions.cart.max(initial=-1)) + 1, -1, dtype=np.int64)
        cart_order[o.cart] = np.arange(len(o))
        keep = (
            np.flatnonzero(~lines.removed & (cart_order[lines.cart] >= 0))
            if len(lines)
            else np.zeros(0, int)
        )
        order_no = cart_order[lines.cart[keep]]
        # line numbers stay dense (1..n) once removed lines are left out
        line_no = np.zeros(len(keep), dtype=np.int64)
        if len(keep):
            start = np.r_[0, np.flatnonzero(np.diff(order_no)) + 1]
            line_no = np.arange(len(keep)) - np.repeat(start, np.diff(np.r_[start, len(keep)])) + 1
        items = pa.table(
            {
                "order_id": numbered("ord_", base + order_no + 1, 11),
                "line_number": pa.array(line_no, pa.int32()),
                "product": pa.array(lines.product[keep], pa.int64()),
                "quantity": pa.array(lines.quantity[keep], pa.int32()),
            }
        )
        self._insert(
            "order_items",
            items,
            """
            select order_id, line_number, p.product_id, quantity, p.price
            from frame join gen_products p on p.idx = frame.product""",
        )

    def _coupon_codes(self, chunk: Chunk) -> np.ndarray:
        c = chunk.coupons
        prefix = np.array(
            [COUPON_PREFIX.get(p.program, "SAVE") for p in self.campaigns.programs], dtype=object
        )
        number = self._base(chunk) + np.arange(len(c)) + 1
        return np.array(
            [f"{p}-{n:011d}" for p, n in zip(prefix[c.campaign], number, strict=True)], dtype=object
        )

    def _rng(self, chunk: Chunk, purpose: int) -> np.random.Generator:
        seq = np.random.SeedSequence([self.seed, 0x1D5, purpose, chunk.number])
        return np.random.Generator(np.random.PCG64(seq))

    def _anonymous_ids(self, chunk: Chunk) -> pa.Array:
        """Two browser ids per person of the chunk: index ``2 * person + slot``."""
        return uuids(self._rng(chunk, 1), 2 * len(chunk.people))

    def _customer_ids(self, chunk: Chunk) -> pa.Array:
        return numbered("cus_", chunk.people.number, 8)

    def _contexts(
        self, chunk: Chunk, ss: _Columns, code: np.ndarray, product: np.ndarray
    ) -> pa.Array:
        """Context JSON per event, dictionary-encoded: few distinct pages x sources x devices."""
        cat, n_products = self.catalog, len(self.catalog)
        pages = ["/", "/cart", "/checkout", "/checkout/thank-you", "/help"]
        page = np.select(
            [
                np.isin(
                    code, [CODE["Product Viewed"], CODE["Product Added"], CODE["Product Removed"]]
                ),
                code == CODE["Cart Viewed"],
                np.isin(code, [CODE["Checkout Started"], CODE["Coupon Applied"]]),
                code == CODE["Order Completed"],
                np.isin(code, [CODE["Chatbot Started"], CODE["Chatbot Ended"]]),
            ],
            [product, n_products + 1, n_products + 2, n_products + 3, n_products + 4],
            n_products,
        )
        people = chunk.people
        device = np.where(
            ss.slot == 0, people.device_type[ss.cust], (people.device_type[ss.cust] + 1) % 3
        )
        n_cmp = len(self.campaigns) + 1
        key = (((page * len(SOURCES) + ss.source) * n_cmp + ss.campaign + 1) * 3 + ss.variant) * 3
        key = key + device
        unique, inverse = np.unique(key, return_inverse=True)
        texts = []
        for k in unique.tolist():
            k, dev = divmod(k, 3)
            k, variant = divmod(k, 3)
            k, camp = divmod(k, n_cmp)
            pg, src = divmod(k, len(SOURCES))
            path = f"/p/{cat.slug[pg]}" if pg < n_products else pages[pg - n_products]
            utm_source, utm_medium, referrer = SOURCES[src]
            campaign = None
            if utm_medium == "email" and camp > 0:
                program = self.campaigns.programs[camp - 1].program
                campaign = {
                    "source": program,
                    "medium": "email",
                    "name": f"cmp_{camp:05d}",
                    "content": [None, "A", "B"][variant],
                }
            elif utm_medium is not None:
                name = "brand_search" if utm_source == "google" else "retargeting"
                campaign = {
                    "source": utm_source,
                    "medium": utm_medium,
                    "name": name,
                    "content": None,
                }
            texts.append(
                json.dumps(
                    {
                        "page": {"url": SHOP_URL + path, "path": path, "referrer": referrer},
                        "campaign": campaign,
                        "device": {"type": DEVICE_TYPES[dev]},
                    },
                    separators=(",", ":"),
                )
            )
        return pa.DictionaryArray.from_arrays(
            pa.array(inverse.astype(np.int32)), pa.array(texts, pa.string())
        )

    def _events(self, chunk: Chunk) -> None:
        e, s, base = chunk.events, chunk.sessions, self._base(chunk)
        ss = _Columns(s, e.session)
        people = chunk.people
        n = len(e.t)
        login = s.login_s(chunk.per_session_lines)[e.session]
        known = e.t >= login
        has_cart = ss.cart >= 0
        order_idx = chunk.order_of_session[e.session]
        is_order = (e.code == CODE["Order Completed"]) & (order_idx >= 0)
        o = chunk.orders
        oi = np.where(is_order, order_idx, 0)
        codes = self._coupon_codes(chunk)
        with_coupon = np.isin(e.code, [CODE["Order Completed"], CODE["Coupon Applied"]])
        with_coupon &= ss.coupon >= 0
        coupon_code = np.full(n, None, dtype=object)
        if len(codes):
            coupon_code[with_coupon] = codes[ss.coupon[with_coupon]]
        submitted = e.code == CODE["Newsletter Signup Submitted"]
        email = np.full(n, None, dtype=object)
        email[submitted] = people.email[ss.cust[submitted]]
        rng = self._rng(chunk, 2)
        delay = rng.integers(0, 3, n) + np.where(
            rng.random(n) < 0.02, rng.exponential(600, n), 0
        ).astype(np.int64)
        chat = np.isin(e.code, [CODE["Chatbot Started"], CODE["Chatbot Ended"]])
        cart_value = np.where(has_cart, chunk.cart_subtotal[np.where(has_cart, ss.cart, 0)], 0.0)
        user = pa.array(ss.cust, pa.int64(), mask=~known)
        zeros = np.zeros(n)
        frame = pa.table(
            {
                "message_id": uuids(self._rng(chunk, 3), n, "ajs-"),
                "anonymous_id": self._anonymous_ids(chunk).take(pa.array(ss.cust * 2 + ss.slot)),
                "user_id": self._customer_ids(chunk).take(user),
                "event": _labels(e.code, EVENT_NAMES),
                "t": _ts(e.t),
                # the collector has received everything it holds by the end
                "received": _ts(np.minimum(e.t + delay, np.maximum(chunk.end_s - 1, e.t))),
                "code": pa.array(e.code, pa.int64()),
                "product": _opt(e.product, e.product >= 0, pa.int64()),
                "quantity": pa.array(e.quantity, pa.int64()),
                "cart_id": numbered("cart_", base + ss.cart + 1, 11, has_cart),
                "cart": _opt(base + ss.cart + 1, has_cart, pa.int64()),
                "order_id": numbered("ord_", base + order_idx + 1, 11, is_order),
                "cart_value": pa.array(cart_value),
                "total": pa.array(o.total[oi] if len(o) else zeros),
                "discount": pa.array(o.discount[oi] if len(o) else zeros),
                "revenue": pa.array((o.subtotal[oi] - o.discount[oi]) if len(o) else zeros),
                "coupon_code": pa.array(coupon_code, pa.string()),
                "email": pa.array(email, pa.string()),
                "conversation_id": numbered("conv_", base + e.session + 1, 11, chat),
                "topic": _labels(ss.chatbot_topic, CHATBOT_TOPICS),
                "resolved": pa.array(ss.chatbot_resolved, pa.bool_()),
                "messages": pa.array(ss.chatbot_messages, pa.int64()),
                "context": self._contexts(chunk, ss, e.code, e.product),
            }
        )
        lines = chunk.lines
        self.con.register(
            "gen_lines",
            pa.table(
                {
                    "cart": pa.array(base + lines.cart + 1, pa.int64()),
                    "line_number": pa.array(lines.line_number, pa.int64()),
                    "product": pa.array(lines.product, pa.int64()),
                    "quantity": pa.array(lines.quantity, pa.int64()),
                    "removed": pa.array(lines.removed, pa.bool_()),
                }
            ),
        )
        self.con.register(
            "gen_lists",
            self.con.sql("""
                select l.cart, '[' || string_agg(p.item_head || ',"quantity":' || l.quantity || '}',
                                                 ',' order by l.line_number) || ']' as products
                from gen_lines l join gen_products p on p.idx = l.product
                where not l.removed group by l.cart""").to_arrow_table(),
        )
        c = CODE
        money = "cast(cast({} as decimal(12, 2)) as varchar)"
        try:
            self._insert(
                "events",
                frame,
                f"""
            with lists as (select * from gen_lists),
            e as (
                select frame.*, p.viewed_json, p.added_fragment, lists.products
                from frame
                left join gen_products p on p.idx = frame.product
                left join lists on lists.cart = frame.cart
                    and frame.code in ({c["Cart Viewed"]}, {c["Checkout Started"]},
                                       {c["Order Completed"]})
            )
            select
                message_id, anonymous_id, user_id, event, t, received,
                case code
                    when {c["Product Viewed"]} then viewed_json
                    when {c["Product Added"]} then '{{"cart_id":"' || cart_id || '",'
                        || added_fragment
                        || ',"quantity":' || quantity || '}}'
                    when {c["Product Removed"]} then '{{"cart_id":"' || cart_id || '",'
                        || added_fragment
                        || ',"quantity":' || quantity || '}}'
                    when {c["Cart Viewed"]} then '{{"cart_id":"' || cart_id
                        || '","products":' || products || '}}'
                    when {c["Checkout Started"]} then '{{"cart_id":"' || cart_id || '"'
                        || ',"value":' || {money.format("cart_value")}
                        || ',"currency":"EUR","products":' || products || '}}'
                    when {c["Order Completed"]} then '{{"order_id":"'
                        || order_id
                        || '","cart_id":"' || cart_id
                        || '","total":' || {money.format("total")}
                        || ',"revenue":' || {money.format("revenue")}
                        || ',"discount":' || {money.format("discount")}
                        || ',"coupon":' || coalesce('"' || coupon_code || '"', 'null')
                        || ',"currency":"EUR","products":' || products || '}}'
                    when {c["Newsletter Popup Shown"]} then '{{"popup_id":"newsletter-10-off"}}'
                    when {c["Newsletter Signup Submitted"]} then '{{"email":'
                        || cast(to_json(email) as varchar) || ',"source":"popup"}}'
                    when {c["Chatbot Started"]} then '{{"conversation_id":"'
                        || conversation_id || '","topic":"' || topic || '"}}'
                    when {c["Chatbot Ended"]} then '{{"conversation_id":"'
                        || conversation_id || '","resolved":' || resolved
                        || ',"messages":' || messages || '}}'
                    when {c["Coupon Applied"]} then '{{"cart_id":"' || cart_id || '"'
                        || ',"coupon":"' || coupon_code || '"}}'
                end,
                context
            from e""",
            )
        finally:
            for name in ("gen_lines", "gen_lists"):
                with contextlib.suppress(duckdb.Error):
                    self.con.unregister(name)

    def _identifies(self, chunk: Chunk) -> None:
        s, people = chunk.sessions, chunk.people
        idx = chunk.identify_session
        cust = s.cust[idx]
        frame = pa.table(
            {
                "message_id": uuids(self._rng(chunk, 4), len(idx), "ajs-"),
                "user_id": self._customer_ids(chunk).take(pa.array(cust)),
                "anonymous_id": self._anonymous_ids(chunk).take(pa.array(cust * 2 + s.slot[idx])),
                "email": pa.array(people.email[cust], pa.string()),
                "first_name": pa.array(people.first_name[cust], pa.string()),
                "last_name": pa.array(people.last_name[cust], pa.string()),
                "signup": pa.array(s.kind[idx] == KIND["signup"], pa.bool_()),
                "t": _ts(chunk.identify_s),
            }
        )
        self._insert(
            "identifies",
            frame,
            """
            select message_id, user_id, anonymous_id,
                   cast(json_object('email', email, 'first_name', first_name,
                                    'last_name', last_name, 'created_account', signup) as varchar),
                   t
            from frame""",
        )

    def _consents(self, chunk: Chunk) -> None:
        c, people = chunk.consents, chunk.people
        frame = pa.table(
            {
                "consent_id": hex_ids(self._rng(chunk, 5), len(c.cust), "cst_", 10),
                "customer_id": self._customer_ids(chunk).take(
                    pa.array(c.cust, mask=~c.with_customer)
                ),
                "email": pa.array(people.email[c.cust], pa.string()),
                "status": _labels(c.status, CONSENT_STATUSES),
                "source": _labels(c.source, CONSENT_SOURCES),
                "confirmed": _ts(c.confirmed_s, c.confirmed_s >= NEVER),
                "changed": _ts(c.changed_s),
            }
        )
        self._insert(
            "consents",
            frame,
            """
            select consent_id, customer_id, email, 'email', status, source, confirmed, changed
            from frame""",
        )
        # SMS marketing consent: a channel of its own (generator/sms.py); no double
        # opt-in, the subscribed row confirms itself
        sms = sms_consents(
            self._rng(chunk, 21),
            np.array([p is not None for p in people.phone], dtype=bool),
            people.created_s,
            chunk.end_s,
        )
        self._insert(
            "consents",
            pa.table(
                {
                    "consent_id": hex_ids(self._rng(chunk, 22), len(sms.person), "cst_", 10),
                    "customer_id": self._customer_ids(chunk).take(pa.array(sms.person)),
                    "status": _labels(sms.status, CONSENT_STATUSES),
                    "source": _labels(sms.source, CONSENT_SOURCES),
                    "changed": _ts(sms.changed_s),
                }
            ),
            """
            select consent_id, customer_id, null, 'sms', status, source,
                   case when status = 'subscribed' then changed end, changed
            from frame""",
        )

    def _emails(self, chunk: Chunk) -> None:
        m, people = chunk.messages, chunk.people
        n = len(m)
        s = m.sends
        moments = [
            ("sent", np.flatnonzero(~m.held_out), s.send_s),
            ("held_out", np.flatnonzero(m.held_out), s.send_s),
            ("delivered", np.flatnonzero(m.delivered_s < NEVER), m.delivered_s),
            ("bounced", np.flatnonzero(m.bounced > 0), s.send_s + 5),
            ("opened", np.flatnonzero(m.opened_s < NEVER), m.opened_s),
            ("clicked", np.flatnonzero(m.clicked_s < NEVER), m.clicked_s),
            ("unsubscribed", np.flatnonzero(m.unsubscribed_s < NEVER), m.unsubscribed_s),
            ("spam", np.flatnonzero(m.spam_s < NEVER), m.spam_s),
        ]
        msg = np.concatenate([idx for _, idx, _ in moments])
        kind = np.concatenate([np.full(len(idx), EVENT_TYPES.index(k)) for k, idx, _ in moments])
        when = np.concatenate([t[idx] for _, idx, t in moments])
        sort = np.lexsort((kind, when, msg))
        msg, kind, when = msg[sort], kind[sort], when[sort]
        clicked = kind == EVENT_TYPES.index("clicked")
        cmp = self.campaigns
        urls = [
            f"{SHOP_URL}/?utm_source={p.program}&utm_medium=email&utm_campaign=cmp_{i + 1:05d}"
            + (f"&utm_content={v}" if v else "")
            for i, p in enumerate(cmp.programs)
            for v in (None, "A", "B")
        ]
        emails = pa.array([e.strip().lower() for e in people.email], pa.string())
        frame = pa.table(
            {
                "event_id": hex_ids(self._rng(chunk, 6), len(msg), "eev_"),
                "message_id": hex_ids(self._rng(chunk, 7), n, "msg_").take(pa.array(msg)),
                "customer_id": self._customer_ids(chunk).take(pa.array(s.cust[msg])),
                "email": emails.take(pa.array(s.cust[msg])),
                "campaign_id": _labels(
                    s.campaign[msg], [f"cmp_{i + 1:05d}" for i in range(len(cmp))]
                ),
                "variant": _labels(m.variant[msg], [None, "A", "B"]),
                "event_type": _labels(kind, EVENT_TYPES),
                "bounce_type": _labels(
                    np.where(kind == EVENT_TYPES.index("bounced"), m.bounced[msg], 0),
                    [None, "soft", "hard"],
                ),
                "url": _labels(np.where(clicked, s.campaign[msg] * 3 + m.variant[msg], -1), urls),
                "t": _ts(when),
            }
        )
        self._insert(
            "email_events",
            frame,
            """
            select event_id, message_id, customer_id, email, campaign_id, variant, event_type,
                   bounce_type, url, 'generator', t
            from frame""",
        )

    def _coupons(self, chunk: Chunk) -> None:
        c, people, base = chunk.coupons, chunk.people, self._base(chunk)
        redeemed = chunk.coupon_order >= 0
        o = chunk.orders
        ro = np.where(redeemed, chunk.coupon_order, 0)
        frame = pa.table(
            {
                "code": pa.array(self._coupon_codes(chunk), pa.string()),
                "number": pa.array(people.number[c.cust], pa.int64()),
                "campaign": pa.array(c.campaign, pa.int64()),
                "value": pa.array(c.value),
                "value_type": pa.array(np.where(c.percent, "percent", "amount"), pa.string()),
                "issued": _ts(c.issued_s),
                "expires": _ts(c.expires_s),
                "redeemed": _ts(o.placed_s[ro] if len(o) else np.zeros(len(c)), ~redeemed),
                "order_id": numbered("ord_", base + ro + 1, 11, redeemed),
            }
        )
        self._insert(
            "coupons",
            frame,
            """
            select code, gen_customer_id(number), cmp.campaign_id, cast(value as decimal(12, 2)),
                   value_type,
                   issued, expires, redeemed,
                   order_id
            from frame join gen_campaigns cmp on cmp.idx = frame.campaign""",
        )
