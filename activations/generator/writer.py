"""Columnar frames into the raw tables: one Arrow table per chunk and table,
inserted with ``insert into raw.x select ... from frame`` (ids, JSON text and
URLs are built by DuckDB, vectorised). Never row by row.
"""

from __future__ import annotations

import contextlib

import duckdb
import numpy as np
import pyarrow as pa
from duckdb import DuckDBPyConnection

from activations.generator.campaigns import Campaigns
from activations.generator.catalog import CDN_URL, SHOP_URL, Catalog
from activations.generator.consent import SOURCES as CONSENT_SOURCES
from activations.generator.consent import STATUSES as CONSENT_STATUSES
from activations.generator.email import EVENT_TYPES
from activations.generator.events import CODE, EVENT_NAMES
from activations.generator.orders import STATUSES as ORDER_STATUSES
from activations.generator.people import DEVICE_TYPES
from activations.generator.sessions import CHATBOT_TOPICS, KIND, NEVER, SOURCES
from activations.generator.simulate import Chunk
from activations.raw_schema import RAW_SCHEMA, RAW_TABLES

LOCAL_LIMIT = 10_000_000  # ids of carts, orders and coupons are chunk * LOCAL_LIMIT + local
COUPON_PREFIX = {
    "welcome_series": "WELCOME",
    "cart_abandoners": "CART",
    "birthday_upcoming": "BDAY",
    "dormant_customers": "MISSYOU",
}

MACROS = [
    "create or replace temp macro gen_uuid(h) as "
    "substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-' || substr(h, 13, 4)"
    " || '-' || substr(h, 17, 4) || '-' || substr(h, 21, 12)",
    "create or replace temp macro gen_ts(s) as make_timestamp(s * 1000000)",
    "create or replace temp macro gen_customer_id(n) as printf('cus_%08d', n)",
]


def _ts(seconds: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(seconds, dtype=np.int64), pa.int64(), mask=mask)


def _opt(values: np.ndarray, valid: np.ndarray, type_: pa.DataType) -> pa.Array:
    return pa.array(np.where(valid, values, 0), type_, mask=~valid)


def _lookup(name: str, values: tuple | list | np.ndarray) -> str:
    rows = ", ".join(f"({i}, {_lit(v)})" for i, v in enumerate(values))
    return f"(values {rows}) as {name}(code, label)"


def _lit(value: object) -> str:
    if value is None:
        return "null"
    return "'" + str(value).replace("'", "''") + "'"


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
        self._register("gen_products", products)
        cmp = campaigns.table().append_column(
            "idx", pa.array(np.arange(len(campaigns)), pa.int64())
        )
        self._register("gen_campaigns", cmp)

    def _register(self, name: str, table: pa.Table) -> None:
        self.con.register(name, table)

    def _insert(self, table: str, frame: pa.Table, select: str) -> None:
        self.con.register("frame", frame)
        try:
            cols = ", ".join(f'"{c}"' for c, _ in RAW_TABLES[table])
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
        self._insert(
            "customers",
            chunk.people.table(),
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
                "order_no": pa.array(base + np.arange(len(o)) + 1, pa.int64()),
                "customer": pa.array(chunk.people.number[o.cust], pa.int64()),
                "cart": pa.array(base + o.cart + 1, pa.int64()),
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
        select printf('ord_%011d', order_no), gen_customer_id(customer), printf('cart_%011d', cart),
                   gen_ts(placed_s), status, 'EUR', cast(subtotal as decimal(12, 2)),
                   cast(discount as decimal(12, 2)), cast(shipping as decimal(12, 2)),
                   cast(subtotal as decimal(12, 2)) - cast(discount as decimal(12, 2))
                     + cast(shipping as decimal(12, 2)),
                   coupon_code, gen_ts(updated_s)
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
                "order_no": pa.array(base + order_no + 1, pa.int64()),
                "line_number": pa.array(line_no, pa.int32()),
                "product": pa.array(lines.product[keep], pa.int64()),
                "quantity": pa.array(lines.quantity[keep], pa.int32()),
            }
        )
        self._insert(
            "order_items",
            items,
            """
            select printf('ord_%011d', order_no), line_number, p.product_id, quantity, p.price
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

    def _events(self, chunk: Chunk) -> None:
        e, s, base = chunk.events, chunk.sessions, self._base(chunk)
        ss = s.take(e.session)
        people = chunk.people
        login = s.login_s(chunk.per_session_lines)[e.session]
        known = e.t >= login
        has_cart = ss.cart >= 0
        order_idx = chunk.order_of_session[e.session]
        is_order = (e.code == CODE["Order Completed"]) & (order_idx >= 0)
        o = chunk.orders
        oi = np.where(is_order, order_idx, 0)
        codes = self._coupon_codes(chunk)
        with_coupon = np.isin(e.code, [CODE["Order Completed"], CODE["Coupon Applied"]]) & (
            ss.coupon >= 0
        )
        coupon_code = np.full(len(e.t), None, dtype=object)
        if len(codes):
            coupon_code[with_coupon] = codes[ss.coupon[with_coupon]]
        submitted = e.code == CODE["Newsletter Signup Submitted"]
        email = np.full(len(e.t), None, dtype=object)
        email[submitted] = people.email[ss.cust[submitted]]
        rng = np.random.Generator(
            np.random.PCG64(np.random.SeedSequence([self.seed, 0xE7, chunk.number]))
        )
        delay = rng.integers(0, 3, len(e.t)) + np.where(
            rng.random(len(e.t)) < 0.02, rng.exponential(600, len(e.t)), 0
        ).astype(np.int64)
        chat = np.isin(e.code, [CODE["Chatbot Started"], CODE["Chatbot Ended"]])
        device = np.where(
            ss.slot == 0, people.device_type[ss.cust], (people.device_type[ss.cust] + 1) % 3
        )
        cart_value = np.where(has_cart, chunk.cart_subtotal[np.where(has_cart, ss.cart, 0)], 0.0)
        frame = pa.table(
            {
                "seq": pa.array(np.arange(len(e.t)), pa.int64()),
                "anon": pa.array(people.number[ss.cust], pa.int64()),
                "slot": pa.array(ss.slot, pa.int64()),
                "user_no": _opt(people.number[ss.cust], known, pa.int64()),
                "code": pa.array(e.code, pa.int64()),
                "t": _ts(e.t),
                "received": _ts(e.t + delay),
                "product": _opt(e.product, e.product >= 0, pa.int64()),
                "quantity": pa.array(e.quantity, pa.int64()),
                "cart": _opt(base + ss.cart + 1, has_cart, pa.int64()),
                "order_no": _opt(base + order_idx + 1, is_order, pa.int64()),
                "cart_value": pa.array(cart_value),
                "total": pa.array(o.total[oi] if len(o) else np.zeros(len(e.t))),
                "discount": pa.array(o.discount[oi] if len(o) else np.zeros(len(e.t))),
                "revenue": pa.array(
                    (o.subtotal[oi] - o.discount[oi]) if len(o) else np.zeros(len(e.t))
                ),
                "coupon_code": pa.array(coupon_code, pa.string()),
                "email": pa.array(email, pa.string()),
                "conversation": _opt(base + e.session + 1, chat, pa.int64()),
                "topic": pa.array(CHATBOT_TOPICS[ss.chatbot_topic], pa.string()),
                "resolved": pa.array(ss.chatbot_resolved, pa.bool_()),
                "messages": pa.array(ss.chatbot_messages, pa.int64()),
                "source": pa.array(ss.source, pa.int64()),
                "campaign": _opt(ss.campaign, ss.campaign >= 0, pa.int64()),
                "variant": pa.array(
                    np.array([None, "A", "B"], dtype=object)[ss.variant], pa.string()
                ),
                "device": pa.array(DEVICE_TYPES[device], pa.string()),
                "session_kind": pa.array(ss.kind, pa.int64()),
            }
        )
        lists = """
            select l.cart, to_json(list(json_object('product_id', p.product_id, 'sku', p.sku,
                     'name', p.name, 'price', cast(p.price as decimal(12, 2)),
                     'quantity', l.quantity, 'category', p.category)
                     order by l.line_number)) as products
            from gen_lines l join gen_products p on p.idx = l.product
            where not l.removed group by l.cart"""
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
        c = CODE
        src = _lookup("src", [x[0] for x in SOURCES])
        med = _lookup("med", [x[1] for x in SOURCES])
        ref = _lookup("ref", [x[2] for x in SOURCES])
        names = _lookup("names", EVENT_NAMES)
        seed = int(self.seed)
        try:
            self._insert(
                "events",
                frame,
                f"""
            with lists as ({lists}),
            e as (
                select frame.*, names.label as event_name, p.product_id, p.sku, p.name, p.category,
                       cast(p.price as decimal(12, 2)) as price, p.product_url, p.image_url, p.slug,
                       printf('cart_%011d', frame.cart) as cart_id, lists.products,
                       case when frame.source = {SOURCES.index(("newsletter", "email", None))}
                            then cmp.program else src.label end as utm_source,
                       med.label as utm_medium,
                       case when frame.source = 2 then 'brand_search'
                            when frame.source = 3 then 'retargeting'
                            else cmp.campaign_id end as utm_name,
                       ref.label as referrer
                from frame
                join {names} on names.code = frame.code
                join {src} on src.code = frame.source
                join {med} on med.code = frame.source
                join {ref} on ref.code = frame.source
                left join gen_products p on p.idx = frame.product
                left join gen_campaigns cmp on cmp.idx = frame.campaign
                left join lists on lists.cart = frame.cart
            ),
            paged as (
                select e.*,
             case when code in ({c["Product Viewed"]}, {c["Product Added"]}, {c["Product Removed"]})
                                then '/p/' || slug
                            when code = {c["Cart Viewed"]} then '/cart'
                      when code in ({c["Checkout Started"]}, {c["Coupon Applied"]}) then '/checkout'
                            when code = {c["Order Completed"]} then '/checkout/thank-you'
                            when code in ({c["Chatbot Started"]}, {c["Chatbot Ended"]}) then '/help'
                            else '/' end as path
                from e
            )
            select
                'ajs-' || gen_uuid(md5('{seed}:e:{chunk.number}:' || seq)),
                gen_uuid(md5('{seed}:a:' || anon || ':' || slot)),
                case when user_no is not null then gen_customer_id(user_no) end,
                event_name,
                gen_ts(t),
                gen_ts(received),
                cast(case code
                   when {c["Product Viewed"]} then json_object('product_id', product_id, 'sku', sku,
                        'name', name, 'category', category, 'price', price, 'url', product_url,
                        'image_url', image_url)
            when {c["Product Added"]} then json_object('cart_id', cart_id, 'product_id', product_id,
                        'sku', sku, 'name', name, 'price', price, 'quantity', quantity)
          when {c["Product Removed"]} then json_object('cart_id', cart_id, 'product_id', product_id,
                        'sku', sku, 'name', name, 'price', price, 'quantity', quantity)
                  when {c["Cart Viewed"]} then json_object('cart_id', cart_id, 'products', products)
                    when {c["Checkout Started"]} then json_object('cart_id', cart_id,
               'value', cast(cart_value as decimal(12, 2)), 'currency', 'EUR', 'products', products)
             when {c["Order Completed"]} then json_object('order_id', printf('ord_%011d', order_no),
                        'cart_id', cart_id, 'total', cast(total as decimal(12, 2)),
           'revenue', cast(revenue as decimal(12, 2)), 'discount', cast(discount as decimal(12, 2)),
                        'coupon', coupon_code, 'currency', 'EUR', 'products', products)
                when {c["Newsletter Popup Shown"]} then json_object('popup_id', 'newsletter-10-off')
         when {c["Newsletter Signup Submitted"]} then json_object('email', email, 'source', 'popup')
                    when {c["Chatbot Started"]} then json_object('conversation_id',
                        printf('conv_%011d', conversation), 'topic', topic)
                    when {c["Chatbot Ended"]} then json_object('conversation_id',
                     printf('conv_%011d', conversation), 'resolved', resolved, 'messages', messages)
              when {c["Coupon Applied"]} then json_object('cart_id', cart_id, 'coupon', coupon_code)
                end as varchar),
                cast(json_object(
               'page', json_object('url', '{SHOP_URL}' || path, 'path', path, 'referrer', referrer),
                 'campaign', case when utm_medium is not null then json_object('source', utm_source,
                        'medium', utm_medium, 'name', utm_name, 'content', variant) end,
                    'device', json_object('type', device)
                ) as varchar)
            from paged""",
            )
        finally:
            with contextlib.suppress(duckdb.Error):
                self.con.unregister("gen_lines")

    def _identifies(self, chunk: Chunk) -> None:
        s, people = chunk.sessions, chunk.people
        idx = chunk.identify_session
        cust = s.cust[idx]
        frame = pa.table(
            {
                "seq": pa.array(np.arange(len(idx)), pa.int64()),
                "number": pa.array(people.number[cust], pa.int64()),
                "slot": pa.array(s.slot[idx], pa.int64()),
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
            f"""
            select 'ajs-' || gen_uuid(md5('{int(self.seed)}:i:{chunk.number}:' || seq)),
                   gen_customer_id(number),
                   gen_uuid(md5('{int(self.seed)}:a:' || number || ':' || slot)),
                  cast(json_object('email', email, 'first_name', first_name, 'last_name', last_name,
                        'created_account', signup) as varchar),
                   gen_ts(t)
            from frame""",
        )

    def _consents(self, chunk: Chunk) -> None:
        c, people = chunk.consents, chunk.people
        frame = pa.table(
            {
                "seq": pa.array(np.arange(len(c.cust)), pa.int64()),
                "number": _opt(people.number[c.cust], c.with_customer, pa.int64()),
                "email": pa.array(people.email[c.cust], pa.string()),
                "status": pa.array(np.array(CONSENT_STATUSES, dtype=object)[c.status], pa.string()),
                "source": pa.array(np.array(CONSENT_SOURCES, dtype=object)[c.source], pa.string()),
                "confirmed": _ts(c.confirmed_s, c.confirmed_s >= NEVER),
                "changed": _ts(c.changed_s),
            }
        )
        self._insert(
            "consents",
            frame,
            f"""
            select 'cst_' || substr(md5('{int(self.seed)}:c:{chunk.number}:' || seq), 1, 20),
                   case when number is not null then gen_customer_id(number) end,
                   email, 'email', status, source, gen_ts(confirmed), gen_ts(changed)
            from frame""",
        )

    def _emails(self, chunk: Chunk) -> None:
        m, people = chunk.messages, chunk.people
        n = len(m)
        s = m.sends
        moments = [
            ("sent", np.arange(n), s.send_s),
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
        frame = pa.table(
            {
                "seq": pa.array(np.arange(len(msg)), pa.int64()),
                "msg": pa.array(msg, pa.int64()),
                "number": pa.array(people.number[s.cust[msg]], pa.int64()),
                "email": pa.array(people.email[s.cust[msg]], pa.string()),
                "campaign": pa.array(s.campaign[msg], pa.int64()),
                "variant": pa.array(
                    np.array([None, "A", "B"], dtype=object)[m.variant[msg]], pa.string()
                ),
                "kind": pa.array(kind, pa.int64()),
                "bounce": pa.array(np.where(m.bounced[msg] == 2, "hard", "soft"), pa.string()),
                "t": _ts(when),
            }
        )
        types = _lookup("types", EVENT_TYPES)
        seed = int(self.seed)
        self._insert(
            "email_events",
            frame,
            f"""
            select 'eev_' || substr(md5('{seed}:ee:{chunk.number}:' || seq), 1, 24),
                   'msg_' || substr(md5('{seed}:m:{chunk.number}:' || msg), 1, 24),
                 gen_customer_id(number), lower(trim(email)), cmp.campaign_id, variant, types.label,
                   case when types.label = 'bounced' then bounce end,
                   case when types.label = 'clicked' then '{SHOP_URL}/?utm_source=' || cmp.program
                        || '&utm_medium=email&utm_campaign=' || cmp.campaign_id
                        || coalesce('&utm_content=' || variant, '') end,
                   'generator', gen_ts(t)
            from frame join {types} on types.code = frame.kind
            join gen_campaigns cmp on cmp.idx = frame.campaign""",
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
                "order_no": _opt(base + ro + 1, redeemed, pa.int64()),
            }
        )
        self._insert(
            "coupons",
            frame,
            """
            select code, gen_customer_id(number), cmp.campaign_id, cast(value as decimal(12, 2)),
                   value_type,
                   gen_ts(issued), gen_ts(expires), gen_ts(redeemed),
                   case when order_no is not null then printf('ord_%011d', order_no) end
            from frame join gen_campaigns cmp on cmp.idx = frame.campaign""",
        )


__all__ = ["Writer", "CDN_URL"]
